"""Generated photos whose edges run in one orientation: bars (a barcode, cables, blinds seen
close) at a seeded angle, and fences or shelving (upright slats before a plain wall), each with
a camera's softness (Gaussian σ up to 1 px) and sensor noise (sd up to 6 levels).

They check the sharpness reader, which reads shake as the edges of one orientation gone soft
while the others stay steep: a sharp photo of such content has no edges of the other
orientations, and v0.7.0's reader, reading each step direction over all edges, took them for
shake (8 of 12 sharp photos capped below 40). The tests and ``bench/verdict_table.py --made``
read seeds from 10,000. No reader is fitted on them: added to the ladders they made the fit
worse (their edges are ideal steps, steeper at any blur than a scene's; training/README.md).
"""
from __future__ import annotations

import cv2
import numpy as np

ANGLES = (0, 30, 45, 60, 90, 120, 135)  # degrees, the bars' turn from upright


def _fence(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Upright slats at a seeded pitch before a wall whose colour drifts slowly."""
    wall = rng.integers(40, 220, (height // 200, width // 200, 3), dtype=np.uint8)
    photo = cv2.resize(wall, (width, height), interpolation=cv2.INTER_CUBIC)
    pitch = int(rng.integers(30, 90))
    slat, colour = int(rng.integers(pitch // 4, 3 * pitch // 4)), rng.integers(0, 256, 3)
    for left in range(int(rng.integers(0, pitch)), width, pitch):
        photo[:, left:left + slat] = colour
    return photo


def _bars(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Bars of seeded widths (3-14 px) and colours on a plain ground, turned by a seeded angle."""
    side = int(1.5 * max(height, width))  # turned, the square still covers the photo
    photo = np.full((side, side, 3), int(rng.integers(30, 200)), np.uint8)
    for _ in range(side // 6):
        left, bar, top = int(rng.integers(0, side)), int(rng.integers(3, 15)), int(rng.integers(0, side // 2))
        photo[top:, left:left + bar] = rng.integers(0, 256, 3)
    turn = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.choice(ANGLES)), 1.0)
    photo = cv2.warpAffine(photo, turn, (side, side), flags=cv2.INTER_LINEAR)
    top, left = (side - height) // 2, (side - width) // 2
    return photo[top:top + height, left:left + width]


def few_orientations_photo(seed: int, height: int = 1800, width: int = 2400) -> np.ndarray:
    """A sharp photo (4 MP by default): a fence for every third seed, bars otherwise, with a
    camera's softness and noise."""
    rng = np.random.default_rng(seed)
    photo = _fence(height, width, rng) if seed % 3 == 0 else _bars(height, width, rng)
    photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.05, 1.0)))
    return np.clip(photo + rng.normal(0.0, float(rng.uniform(0.0, 6.0)), photo.shape), 0, 255).astype(np.uint8)
