"""The gallery's thumbnail of a photo as JPEG bytes (Qt-free, so workers and the catalogue make
it off the GUI thread; the window only turns the bytes into a pixmap).

Made at the largest size the gallery's Size control offers (THUMB_SIDE), so no size shows an
upscaled picture: stored at 128 px, a 256-px cell showed a blurred double of it. The gallery
scales it down for smaller cells. Each is bounded in bytes (MAX_THUMB_BYTES): a busy photo is
encoded again at a lower quality rather than stored larger."""
from __future__ import annotations

import struct

import cv2
import numpy as np

THUMB_SIDE = 256  # px: the gallery's largest thumbnail (app.ui.gallery.THUMB_MAX)
MAX_THUMB_BYTES = 40_000  # one thumbnail at most: 10,000 photos keep at most 400 MB, ~15 KB each typically
QUALITIES = (85, 75, 65, 50, 35)  # tried in turn until the JPEG fits MAX_THUMB_BYTES


def thumbnail_jpeg(rgb: np.ndarray, side: int = THUMB_SIDE, max_bytes: int = MAX_THUMB_BYTES) -> bytes:
    """A square thumbnail (the photo letterboxed on light grey, so every gallery cell is alike)
    as JPEG bytes, encoded in the worker thread: kept per photo instead of a pixmap."""
    h, w = rgb.shape[:2]
    f = min(1.0, side / max(h, w))
    small = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA) if f < 1 else rgb
    canvas = np.full((side, side, 3), 235, np.uint8)
    top, left = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small[:side, :side]
    bgr = cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)
    for quality in QUALITIES:
        data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()
        if len(data) <= max_bytes:
            break
    return data  # the lowest quality's, should even that be over: a thumbnail is still shown


# JPEG start-of-frame markers (baseline, progressive, ...): the frame header holds the size.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def thumbnail_side(jpeg: bytes | None) -> int:
    """The width of a stored thumbnail, read from its JPEG header without decoding it (0 when it
    cannot be read): a row stored before thumbnails were made at THUMB_SIDE is narrower."""
    if not jpeg or jpeg[:2] != b"\xff\xd8":
        return 0
    i = 2
    while i + 9 <= len(jpeg):
        if jpeg[i] != 0xFF:
            return 0
        marker = jpeg[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = struct.unpack(">H", jpeg[i + 2 : i + 4])[0]
        if marker in _SOF:
            return struct.unpack(">H", jpeg[i + 7 : i + 9])[0]
        i += 2 + length
    return 0
