"""A photo read to be looked at beside another (the window's compare view): its pixels as a
person sees them, a screen-sized copy to draw at fit, and what is wrong with it when only part of
it decodes. Never scored: nothing here is stored."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decode import ImageLoadError, load_rgb, load_what_decodes

# What still shows of a photo that does not decode whole (load_what_decodes); other failures
# (not an image, unsupported, too large) have nothing to show.
PARTLY_DECODED = ("truncated", "damaged", "corrupt")


@dataclass(frozen=True)
class DisplayPhoto:
    rgb: np.ndarray  # the photo at its decoded size (its own pixels, up to decode's bound)
    preview: np.ndarray  # the same, long side at most the screen's: what is drawn at fit
    problem: str | None = None  # why only part of it shows (the decoder's message)


def screen_preview(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` reduced by area averaging (no aliasing, so a preview shows no false noise) until
    its long side is at most ``side``; ``rgb`` itself when it is no larger."""
    import cv2

    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def read_for_display(path: str | Path, side: int) -> DisplayPhoto:
    """The photo at ``path`` and its preview. Raises ImageLoadError when nothing of it shows; a
    cut-off or damaged photo shows what decodes, with the decoder's message as its ``problem``."""
    try:
        rgb, problem = load_rgb(path), None
    except ImageLoadError as exc:
        partial = load_what_decodes(path) if exc.kind in PARTLY_DECODED else None
        if partial is None:
            raise
        rgb, problem = partial, str(exc)
    return DisplayPhoto(rgb, screen_preview(rgb, side), problem)
