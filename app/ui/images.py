"""numpy RGB arrays <-> Qt images."""
from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # copy: own the pixels


def thumbnail(rgb: np.ndarray, side: int = 160) -> QImage:
    h, w = rgb.shape[:2]
    f = side / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    return to_qimage(small)
