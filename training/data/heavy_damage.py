"""Damage an inspector rejects at a glance, as the product's verdict figures define it.

Applied at the size scored, so "15 px" means 15 px of that photo: Gaussian blur sigma 4 px,
Gaussian noise sigma 25, JPEG quality 8, 2 stops over (x4) and 2.5 stops under (x0.18) exposure
in linear light, 15 px motion blur. ``bench/verdict_table.py`` reports verdicts on them and the
tests hold the shipped model to them.
"""
from __future__ import annotations

import cv2
import numpy as np

from .synthetic import codec_round_trip


def exposed(rgb: np.ndarray, stops: float) -> np.ndarray:
    """The photo ``stops`` over (positive) or under (negative) exposed, in linear light as a camera would."""
    linear = (rgb.astype(np.float32) / 255.0) ** 2.2 * (2.0 ** stops)
    return (np.clip(linear, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def _motion(rgb: np.ndarray, length: int = 15) -> np.ndarray:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(rgb, -1, kernel, borderType=cv2.BORDER_REFLECT)


def saved_as_jpeg(rgb: np.ndarray, quality: int = 92) -> np.ndarray:
    """The photo as a camera or phone hands it over: saved as a JPEG. The file's own 8x8 blocks
    put fine edges back into a blurred photo; a detail reader that never saw them took v0.5.0's
    blurred sample (sigma 4 px, saved at quality 92) for sharp: 17 as an array, 49 from the file."""
    return np.ascontiguousarray(codec_round_trip(rgb, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, int(quality)]))


def _jpeg(rgb: np.ndarray, quality: int = 8) -> np.ndarray:
    return saved_as_jpeg(rgb, quality)


def _noise(rgb: np.ndarray, sigma: float = 25, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rgb + rng.normal(0, sigma, rgb.shape), 0, 255).astype(np.uint8)


DAMAGE = {
    "clean": lambda rgb: rgb,
    "blur sigma 4": lambda rgb: cv2.GaussianBlur(rgb, (0, 0), 4.0),
    "noise sigma 25": _noise,
    "JPEG q8": _jpeg,
    "2 stops over": lambda rgb: exposed(rgb, 2.0),
    "2.5 stops under": lambda rgb: exposed(rgb, -2.5),
    "motion 15 px": _motion,
}
