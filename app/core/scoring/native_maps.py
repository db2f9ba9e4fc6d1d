"""The damage map at native resolution, computed in tiles so memory stays bounded at any size.

The score pass reads a bounded overview and a few tiles; the viewer wants to show damage
wherever it sits, at 100 %. Each tile is read with a margin of context around it (so a tile's
edge looks like the inside of the photo) and only its interior cells are kept; at the photo's
own border the margin is mirrored (reflection, not edge-repeat), so no bright frame appears
along the borders. Peak memory is one tile's activations plus the map itself. The detail
reader's network draws the tiles (the one trained on native pixels, see the card).

``native_maps`` gives the viewer two maps from one tiled pass: the tiles' plain map (damage at
100 %, from the detail network's map-only head where it has one) and the damage the score
counts (the tiles' score map and the overview's map stretched over the photo, weighted as the
score weighs its two readers). Either network alone misses what the other sees (the overview
cannot see fine noise at 100 %, a tile cannot tell that its whole content is washed out).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from .overlay import upsample

TILE = 512  # native pixels per tile (a multiple of the stride)
MARGIN = 32  # context on every side of a tile (a multiple of the stride)
OVERLAP = 128  # neighbouring tiles overlap by this much and are cross-faded there


def tile_starts(length: int, tile: int, overlap: int, align: int) -> list[int]:
    """Tile origins on whole cells of ``align`` pixels, covering ``length`` with at least
    ``overlap`` shared between neighbours (the last tile may reach up to a cell further)."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, tile - overlap)) + [length - tile]
    return sorted({t // align * align for t in starts})


def _ramp(n: int, fade: int, at_start: bool, at_end: bool) -> np.ndarray:
    """Weights of ``n`` cells: rising over ``fade`` cells where a neighbour overlaps, else flat."""
    w = np.ones(n, np.float32)
    k = np.arange(1, fade + 1, dtype=np.float32) / (fade + 1)
    if at_start and fade:
        w[:fade] = np.minimum(w[:fade], k[: min(fade, n)])
    if at_end and fade:
        w[-fade:] = np.minimum(w[-fade:], k[::-1][-min(fade, n):])
    return w


def plain_damage_output(engine) -> str:
    """The detail network's output that maps damage plainly: its map-only head's ``damage``
    where it has one (trained apart from the score, see models.damage_head), else the score's
    own map ``distortion``."""
    return "damage" if "damage" in engine.outputs("detail") else "distortion"


def native_damage(engine, rgb: np.ndarray, tile: int = TILE, margin: int = MARGIN, overlap: int = OVERLAP,
                  cancelled: Callable[[], bool] = lambda: False,
                  progress: Callable[[int, int], None] | None = None) -> np.ndarray | None:
    """[ceil(H/s), ceil(W/s)] plain damage (0 clean .. 1 damaged), one cell per ``s`` native
    pixels (s = the model's stride). None when ``cancelled()`` turns true between tiles."""
    output = plain_damage_output(engine)
    maps = tiled_maps(engine, rgb, (output,), tile, margin, overlap, cancelled, progress)
    return None if maps is None else maps[output]


def tiled_maps(engine, rgb: np.ndarray, outputs: tuple[str, ...], tile: int = TILE, margin: int = MARGIN,
               overlap: int = OVERLAP, cancelled: Callable[[], bool] = lambda: False,
               progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray] | None:
    """The detail network's map ``outputs`` over the whole photo in one tiled pass, each
    [ceil(H/s), ceil(W/s)]; None when ``cancelled()`` turns true between tiles.

    Each tile's map carries its own context (the views weigh channels by the tile's content), so
    neighbouring tiles overlap by ``overlap`` pixels and are cross-faded there: no seams."""
    s = engine.stride
    if tile % s or margin % s or overlap % s or overlap >= tile:
        raise ValueError(f"tile, margin and overlap must be multiples of the stride {s}, overlap < tile")
    h, w = rgb.shape[:2]
    grid = ((h + s - 1) // s, (w + s - 1) // s)
    acc = {name: np.zeros(grid, np.float32) for name in outputs}
    weight = np.zeros(grid, np.float32)
    tops, lefts = tile_starts(h, tile, overlap, s), tile_starts(w, tile, overlap, s)
    total, done, fade = len(tops) * len(lefts), 0, overlap // s
    for i, top in enumerate(tops):
        for j, left in enumerate(lefts):
            if cancelled():
                return None
            # The last row and column of tiles reach the photo's edge (their origin was rounded
            # down to a whole cell, so they may be up to one cell larger than ``tile``).
            bottom = h if i == len(tops) - 1 else min(h, top + tile)
            right = w if j == len(lefts) - 1 else min(w, left + tile)
            window = _window(rgb, top - margin, left - margin, bottom + margin, right + margin)
            out = engine.run(window, "detail")
            m = margin // s
            rows, cols = (bottom - top + s - 1) // s, (right - left + s - 1) // s
            wt = np.outer(_ramp(rows, fade, i > 0, i < len(tops) - 1), _ramp(cols, fade, j > 0, j < len(lefts) - 1))
            cells = np.s_[top // s: top // s + rows, left // s: left // s + cols]
            for name in outputs:
                acc[name][cells] += wt * out[name][0, 0, m:m + rows, m:m + cols]
            weight[cells] += wt
            done += 1
            if progress is not None:
                progress(done, total)
    return {name: a / np.maximum(weight, 1e-6) for name, a in acc.items()}


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


@dataclass(frozen=True)
class NativeMaps:
    """A photo's two native-resolution maps, [ceil(H/s), ceil(W/s)], 0 clean .. 1 damaged."""

    tiles: np.ndarray  # the detail network's plain map of native tiles: damage at 100 %
    in_score: np.ndarray  # what the score counts: the overview's map and the tiles, weighted as in the score


def native_maps(engine, rgb: np.ndarray, result, cancelled: Callable[[], bool] = lambda: False,
                progress: Callable[[int, int], None] | None = None, **tiling) -> NativeMaps | None:
    """Both native maps of a photo from one tiled pass; None when ``cancelled()`` turns true.

    ``tiles``: the plain damage map (``plain_damage_output``). ``in_score`` = (1 - w) x the
    overview's map stretched over the photo + w x the tiles' score map (``distortion``, what
    the detail score is made of), w the card's detail weight for this photo (0 for photos no
    larger than the viewing size: their score is the overview's alone). ``result`` is the
    photo's ScoreResult. Fine damage counts in the score with weight w, so the weighted map
    shows it faintly (on a fixed colour scale); the plain map shows it at full contrast."""
    plain = plain_damage_output(engine)
    maps = tiled_maps(engine, rgb, tuple(dict.fromkeys((plain, "distortion"))), cancelled=cancelled,
                      progress=progress, **tiling)
    if maps is None:
        return None
    scored = maps["distortion"]
    # The overview's cells cover result.cell photo pixels; on the native grid, cell / stride cells.
    whole = upsample(result.distortion, *scored.shape, result.cell / engine.stride)
    weight = engine.reading.detail_share(result.overview_score, result.detail_score)
    return NativeMaps(tiles=maps[plain], in_score=(1 - weight) * whole + weight * scored)

