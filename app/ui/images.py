"""numpy RGB arrays <-> Qt images."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # copy: own the pixels


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
