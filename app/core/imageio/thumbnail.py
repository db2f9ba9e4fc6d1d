"""The gallery's thumbnail of a photo as JPEG bytes (Qt-free, so workers and the catalogue make
it off the GUI thread; the window only turns the bytes into a pixmap)."""
from __future__ import annotations

import cv2
import numpy as np


def thumbnail_jpeg(rgb: np.ndarray, side: int = 128, quality: int = 85) -> bytes:
    """A square thumbnail (the photo letterboxed on light grey, so every gallery cell is alike)
    as JPEG bytes: ~5 KB kept per photo instead of a 64 KB pixmap, encoded in the worker thread."""
    h, w = rgb.shape[:2]
    f = min(1.0, side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    canvas = np.full((side, side, 3), 235, np.uint8)
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small[:side, :side]
    _, data = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return data.tobytes()
