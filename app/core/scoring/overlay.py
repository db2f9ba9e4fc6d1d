"""Heatmap overlays: model maps upsampled to the photo and coloured on a FIXED scale.

Never per-image min-max: a clean photo's distortion map must look cool, not be stretched until
its faintest cell glows. Distortion maps are already 0 (clean) .. 1 (badly damaged). Attention
maps sum to 1 over the grid, so they are shown relative to uniform attention: 1x = the average
cell, and the colour scale runs from 0x to ATTENTION_MAX_RATIO x.
"""
from __future__ import annotations

import cv2
import numpy as np

ATTENTION_MAX_RATIO = 4.0


def attention_ratio(attention: np.ndarray) -> np.ndarray:
    """[h, w] attention (sums to 1) -> multiples of uniform attention."""
    return attention * attention.size


def upsample(grid: np.ndarray, height: int, width: int, cell: float | None) -> np.ndarray:
    """A model map -> photo size. ``cell``: photo pixels per map cell (the stride for a map of the
    photo at native size, stride / scale for a map of a reduced copy): cell (i, j) covers pixels
    [cell*i, cell*(i+1)) as the model saw them; the last row/column spill past the photo's edge
    and are cropped. A fixed grid (``cell`` None) is stretched over the photo."""
    if cell:
        size = (max(width, round(grid.shape[1] * cell)), max(height, round(grid.shape[0] * cell)))
        full = cv2.resize(grid.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
        return full[:height, :width]
    return cv2.resize(grid.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def colorize(values: np.ndarray, vmin: float, vmax: float, colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """Values -> RGB uint8 on the fixed range [vmin, vmax] (values outside are clipped)."""
    scaled = np.clip((values - vmin) / (vmax - vmin), 0.0, 1.0)
    bgr = cv2.applyColorMap((scaled * 255).astype(np.uint8), colormap)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def blend(photo: np.ndarray, heat: np.ndarray, opacity: float) -> np.ndarray:
    opacity = float(np.clip(opacity, 0.0, 1.0))
    return cv2.addWeighted(photo, 1.0 - opacity, heat, opacity, 0.0)


def distortion_overlay(photo: np.ndarray, distortion: np.ndarray, cell: float | None, opacity: float = 0.5) -> np.ndarray:
    up = upsample(distortion, *photo.shape[:2], cell)
    return blend(photo, colorize(up, 0.0, 1.0), opacity)


def attention_overlay(photo: np.ndarray, attention: np.ndarray, cell: float | None, opacity: float = 0.5) -> np.ndarray:
    up = upsample(attention_ratio(attention), *photo.shape[:2], cell)
    return blend(photo, colorize(up, 0.0, ATTENTION_MAX_RATIO), opacity)


def fused_attention(attention: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """[V, h, w] -> [h, w]: the views' attention averaged (weighted when weights are given)."""
    w = np.full(attention.shape[0], 1.0 / attention.shape[0]) if weights is None else np.asarray(weights) / np.sum(weights)
    return np.tensordot(w, attention, axes=1)
