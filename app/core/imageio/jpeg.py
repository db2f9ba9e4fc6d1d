"""JPEG decoding through libjpeg-turbo (simplejpeg), strict about damage and able to reduce.

Why not Pillow for JPEG pixels: Pillow passes over libjpeg's "corrupt data" warnings, so a JPEG
with an early end marker or scrambled entropy bytes decodes "successfully" with half the picture
grey or magenta, and would be scored as whole. simplejpeg's strict mode turns those warnings into
errors. It also decodes straight into a 3-byte-per-pixel array (Pillow holds 4 bytes per pixel
and copies once more), and reduces in the DCT (1/2, 1/4, 1/8) when a photo is over the budget.
"""
from __future__ import annotations

import math

import numpy as np
import simplejpeg


class JpegDamaged(Exception):
    """libjpeg reported corrupt data: what decoded is not the whole photo."""


class JpegTruncated(Exception):
    """The file ends before the picture does."""


def header(data: bytes) -> tuple[int, int, str] | None:
    """(height, width, colour space) from the JPEG header, or None if libjpeg cannot read it."""
    try:
        h, w, space, _subsampling = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    return h, w, space


def reduction(pixels: int, budget: int) -> int:
    """The DCT scale divisor (1, 2, 4 or 8) that brings ``pixels`` within ``budget``; 0 if none does."""
    for factor in (1, 2, 4, 8):
        if pixels / (factor * factor) <= budget:
            return factor
    return 0


def decode(data: bytes, height: int, width: int, factor: int = 1) -> np.ndarray:
    """RGB uint8 [H/factor, W/factor, 3] (rounded up), or JpegDamaged / JpegTruncated."""
    try:
        return simplejpeg.decode_jpeg(data, "RGB", min_height=math.ceil(height / factor),
                                      min_width=math.ceil(width / factor), strict=True)
    except ValueError as exc:
        text = str(exc)
        if "premature end of jpeg file" in text.lower():
            raise JpegTruncated(text) from None
        raise JpegDamaged(text) from None


def check(data: bytes, height: int, width: int) -> None:
    """Decode at 1/8 size only to hear libjpeg's complaints (every coefficient is still read)."""
    try:
        simplejpeg.decode_jpeg(data, "CMYK", min_height=math.ceil(height / 8), min_width=math.ceil(width / 8),
                               strict=True)
    except ValueError as exc:
        if "premature end of jpeg file" in str(exc).lower():
            raise JpegTruncated(str(exc)) from None
        raise JpegDamaged(str(exc)) from None
