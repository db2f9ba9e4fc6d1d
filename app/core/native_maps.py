"""The damage map at native resolution, computed in tiles so memory stays bounded at any size.

The score pass reads a bounded overview and a few tiles; the viewer and the report want to
show damage wherever it sits, at 100 %. Each tile is read with a margin of context around it
(so a tile's edge looks like the inside of the photo) and only its interior cells are kept;
at the photo's own border the margin is mirrored (reflection, not edge-repeat), so no bright
frame appears along the borders. Peak memory is one tile's activations plus the map itself.
The detail reader's network draws it (the one trained on native pixels, see the card).
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

TILE = 512  # native pixels per tile (a multiple of the stride)
MARGIN = 32  # context on every side of a tile (a multiple of the stride)


def native_damage(engine, rgb: np.ndarray, tile: int = TILE, margin: int = MARGIN,
                  cancelled: Callable[[], bool] = lambda: False,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray | None:
    """[ceil(H/s), ceil(W/s)] damage (0 clean .. 1 damaged), one cell per ``s`` native pixels
    (s = the model's stride). None when ``cancelled()`` turns true between tiles."""
    s = engine.stride
    if tile % s or margin % s:
        raise ValueError(f"tile and margin must be multiples of the stride {s}")
    h, w = rgb.shape[:2]
    out = np.zeros(((h + s - 1) // s, (w + s - 1) // s), np.float32)
    tops, lefts = range(0, h, tile), range(0, w, tile)
    total, done = len(tops) * len(lefts), 0
    for top in tops:
        for left in lefts:
            if cancelled():
                return None
            bottom, right = min(h, top + tile), min(w, left + tile)
            window = _window(rgb, top - margin, left - margin, bottom + margin, right + margin)
            damage = engine.run(window, "detail")["distortion"][0, 0]
            m = margin // s
            rows, cols = (bottom - top + s - 1) // s, (right - left + s - 1) // s
            out[top // s: top // s + rows, left // s: left // s + cols] = damage[m:m + rows, m:m + cols]
            done += 1
            if progress is not None:
                progress(done, total)
    return out


def _window(rgb: np.ndarray, top: int, left: int, bottom: int, right: int) -> np.ndarray:
    """rgb[top:bottom, left:right], mirrored where the window passes the photo's border."""
    h, w = rgb.shape[:2]
    inner = rgb[max(0, top):min(h, bottom), max(0, left):min(w, right)]
    pads = (max(0, -top), max(0, bottom - h), max(0, -left), max(0, right - w))
    if not any(pads):
        return inner
    # A pad wider than the photo itself cannot be mirrored in one step; edge-repeat the rest.
    reflect = tuple(min(p, max(0, n - 1)) for p, n in zip(pads, (inner.shape[0],) * 2 + (inner.shape[1],) * 2))
    out = cv2.copyMakeBorder(inner, *reflect, cv2.BORDER_REFLECT_101)
    rest = tuple(p - r for p, r in zip(pads, reflect))
    return cv2.copyMakeBorder(out, *rest, cv2.BORDER_REPLICATE) if any(rest) else out
