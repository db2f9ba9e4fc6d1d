"""How a model reads a photo: the scales it looks at, declared by the model's card.

A score is the quality a person judges looking at the whole photo on a screen, so it must not
change when a photo is downscaled to any size still at least the viewing size. Two readers:

- the **overview** ("stepping back"): the whole photo reduced to the viewing size (long side
  ``overview_side``; smaller photos as they are), the scale the MOS raters saw;
- the **detail** ("leaning in"): a fixed grid of native-resolution tiles, never resized, so
  blur, noise or compression visible only at 100 % still counts.

The cost is bounded whatever the photo's size: one overview plus at most ``detail_tiles``
tiles of ``detail_tile`` pixels. Training (targets at the viewing scale) and the engine share
these functions, so what the model learned and how it is run cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

REDUCING_GAP = 2.0  # Pillow's reducing_gap: box-average first while the ratio left stays at least this


@dataclass(frozen=True)
class Reading:
    overview_side: int = 512  # LIVEC's raters judged photos of ~500 px on a screen
    detail_tile: int = 320  # native pixels per detail tile
    detail_tiles: int = 9  # at most this many tiles, spread over the photo on a grid
    detail_weight: float = 0.0  # share of the detail opinion in the score (0: overview only)
    # How the two opinions combine: "mean", a fixed weighted mean (detail_weight); "worse", the
    # worse of the two weighing ``worse_weight`` (damage seen by either reader pulls the score
    # down, as an inspector fails a photo whose flaw shows at fit or at 100 %, while two readers
    # that agree give their common score); or "cap", the overview's score capped at the detail's
    # plus ``detail_margin``. The detail network's opinion of a clean photo moves by ±10 points
    # with the size its tiles are cut from, and under "worse" the score moved with it; damage at
    # 100 % (noise, blocking, blur) takes the detail's opinion 20-50 points down, far past the
    # margin. So the score is the overview's, which barely depends on the photo's size, unless
    # the detail reader sees damage; the detail reader never raises it.
    fusion: str = "mean"
    worse_weight: float = 0.75
    detail_margin: float = 10.0
    # The detail reader's tiles come from the photo reduced to this long side (0: native pixels).
    # Leaning in at about twice the viewing size still shows blur, noise and blocking of a 48 MP
    # photo, without asking a network trained on ~500-px photos to judge a 12 MP photo's native
    # softness (which is no damage).
    detail_side: int = 0

    @classmethod
    def from_card(cls, card: dict) -> Reading:
        """The card's ``reading`` block; a card without one (v0.2 and older) gets the overview
        at the default viewing size and no detail weight (its detail view was never trained)."""
        block = card.get("reading") or {}
        fields = {k: block[k] for k in ("overview_side", "detail_tile", "detail_tiles", "detail_weight", "fusion",
                                        "worse_weight", "detail_margin", "detail_side") if k in block}
        return cls(**fields)

    def detail_share(self, overview_score: float, detail_score: float | None) -> float:
        """The detail opinion's weight in this photo's score (0 when the photo has no detail; under
        "cap", 1 where the detail caps the score, else 0)."""
        if detail_score is None:
            return 0.0
        if self.fusion == "cap":
            return float(detail_score + self.detail_margin < overview_score)
        if self.fusion == "worse":
            return self.worse_weight if detail_score < overview_score else 1.0 - self.worse_weight
        return self.detail_weight

    def fuse(self, overview_score: float, detail_score: float | None) -> float:
        if self.fusion == "cap":
            return overview_score if detail_score is None else min(overview_score, detail_score + self.detail_margin)
        w = self.detail_share(overview_score, detail_score)
        return (1 - w) * overview_score + w * detail_score if w else overview_score

    def to_card(self) -> dict:
        sizes = {"overview_side": self.overview_side, "detail_tile": self.detail_tile, "detail_tiles": self.detail_tiles}
        where = (f"the photo reduced to long side {self.detail_side} px (native when smaller)" if self.detail_side
                 else "native resolution")
        tiles = f"mean of up to {self.detail_tiles} tiles of {self.detail_tile} px of {where}"
        alone = "photos no larger than the viewing size are read by the overview alone"
        if self.fusion == "cap":
            return sizes | {
                "fusion": "cap", "detail_margin": self.detail_margin, "detail_side": self.detail_side,
                "meaning": (
                    f"score = the overview's opinion (the whole photo at long side {self.overview_side} px, smaller "
                    f"photos as they are), capped at the detail's opinion ({tiles}) plus {self.detail_margin:g} points: "
                    f"damage seen only at 100 % lowers the score, the detail reader never raises it; {alone}"
                ),
            }
        if self.fusion == "worse":
            return sizes | {
                "fusion": "worse", "worse_weight": self.worse_weight, "detail_side": self.detail_side,
                "meaning": (
                    f"score = {self.worse_weight:g} x the worse + {1 - self.worse_weight:g} x the better of two opinions: "
                    f"the overview (the whole photo at long side {self.overview_side} px, smaller photos as they are) "
                    f"and the detail ({tiles}); damage either reader sees lowers the score, readers that agree give "
                    f"their common score; {alone}"
                ),
            }
        return sizes | {
            "detail_weight": self.detail_weight,
            "meaning": (
                f"score = {1 - self.detail_weight:g} x overview (the whole photo at long side "
                f"{self.overview_side} px, smaller photos as they are) + {self.detail_weight:g} x detail "
                f"(mean of up to {self.detail_tiles} native-resolution tiles of {self.detail_tile} px); {alone}"
            ),
        }

    def detail_view(self, rgb: np.ndarray) -> np.ndarray:
        """The pixels the detail tiles are cut from: native, or reduced to ``detail_side``."""
        return overview(rgb, self.detail_side) if self.detail_side else rgb

    def has_detail(self, height: int, width: int) -> bool:
        """Only photos larger than the viewing size have detail the overview cannot see."""
        return max(height, width) > self.overview_side and min(height, width) >= self.detail_tile // 2


def overview(rgb: np.ndarray, side: int, min_side: int = 33) -> np.ndarray:
    """The photo at the viewing size: long side ``side``, smaller photos as they are; a long strip
    is reduced less, so its short side keeps the model's ``min_side``.

    Lanczos with a box pre-reduction (Pillow's ``reducing_gap`` 2): on 14 clean photos handed in
    at 768, 1024, 1600 px and native, the overview's score spread was 1.4 points, against 2.6 for
    OpenCV's INTER_AREA (whose fractional-ratio averaging softens a 768-px photo more than a
    4000-px one). The box step is ``box_average`` and Pillow resamples only the reduced photo,
    over the box Pillow itself would: 12 MP in ~20 ms instead of ~70 (Pillow first copies the
    whole photo into its own 4-byte layout, then averages the boxes)."""
    h, w = rgb.shape[:2]
    f = min(1.0, max(side / max(h, w), min_side / min(h, w)))
    if f >= 1.0:
        return rgb
    size = (max(1, round(w * f)), max(1, round(h * f)))
    fx, fy = int(w / size[0] / REDUCING_GAP) or 1, int(h / size[1] / REDUCING_GAP) or 1
    if fx == 1 and fy == 1:
        return np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))
    reduced = Image.fromarray(box_average(rgb, fx, fy))
    return np.asarray(reduced.resize(size, Image.LANCZOS, box=(0, 0, w / fx, h / fy)))


def _rounded_mean(sums: np.ndarray, n: int) -> np.ndarray:
    """Sums of n pixels to their mean, rounded as Pillow's box reduction rounds (fixed point)."""
    return (((sums.astype(np.uint64) + n // 2) * ((1 << 24) // n)) >> 24).astype(np.uint8)


def box_average(rgb: np.ndarray, fx: int, fy: int) -> np.ndarray:
    """Pillow's ``Image.reduce((fx, fy))``: each pixel the mean of an fx x fy box, the last column
    and row of boxes holding what is left of the photo. OpenCV averages the whole boxes (its
    integer-ratio INTER_AREA path) and rounds each mean to the nearest level, where Pillow's fixed
    point rounds some one level down (a ninth of 3 x 3 means): on 26 photos at two sizes the score
    moved by 0.013 points on average, 0.12 at most (docs/benchmarks.md)."""
    h, w, channels = rgb.shape
    rows, cols = h // fy, w // fx
    out = np.empty((-(-h // fy), -(-w // fx), channels), np.uint8)
    if rows and cols:
        out[:rows, :cols] = cv2.resize(rgb[:rows * fy, :cols * fx], (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols, channels)
    rx, ry = w - cols * fx, h - rows * fy
    if rx:  # the last column of boxes, rx pixels wide
        strip = rgb[:rows * fy, cols * fx:].reshape(rows, fy, rx, channels)
        out[:rows, cols] = _rounded_mean(strip.sum(axis=(1, 2), dtype=np.uint64), fy * rx)
    if ry:  # the last row of boxes, ry pixels high
        strip = rgb[rows * fy:, :cols * fx].reshape(ry, cols, fx, channels)
        out[rows, :cols] = _rounded_mean(strip.sum(axis=(0, 2), dtype=np.uint64), ry * fx)
    if rx and ry:
        out[rows, cols] = _rounded_mean(rgb[rows * fy:, cols * fx:].sum(axis=(0, 1), dtype=np.uint64), ry * rx)
    return out


def detail_boxes(height: int, width: int, tile: int, count: int) -> list[tuple[int, int, int, int]]:
    """(top, left, height, width) of up to ``count`` native tiles on an even grid over the photo.

    The grid follows the photo's aspect (a 4:3 photo of 9 tiles gets 3 x 3, a panorama more
    columns than rows); tiles are centred in their grid cells, so the same photo always gets the
    same tiles and they cover it evenly. A side shorter than a tile gets one tile of that side.
    """
    th, tw = min(tile, height), min(tile, width)
    rows = max(1, min(int(round((count * height / width) ** 0.5)), height // th))
    cols = max(1, min(count // rows, width // tw))
    boxes = []
    for r in range(rows):
        for c in range(cols):
            top = int(round((r + 0.5) * height / rows - th / 2))
            left = int(round((c + 0.5) * width / cols - tw / 2))
            boxes.append((min(max(0, top), height - th), min(max(0, left), width - tw), th, tw))
    return boxes
