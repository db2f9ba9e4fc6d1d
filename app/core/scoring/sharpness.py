"""The sharpness reader: whether a photo larger than the viewing size is blurred (out of focus,
shaken) beyond what an inspector accepts at 100 %.

Why a reader apart from the networks: a photo of 12-48 MP blurred by 4 px is soft at fit only a
little, and the detail network, trained on rated photos of 500 px, reads a blurred tile of sky
or wall as it reads a clean one, so v0.6.0 failed 38 % of such copies (motion blur of 15 px:
23 %). What tells them apart is how steep the photo's edges are: at a sharp edge the luma
changes by much of the local range from one pixel to the next; blur of σ px spreads every
change over several pixels, whatever the content. So each edge pixel's step to its neighbour
across its edge (the nearest of four directions to the edge's normal: across columns, across
rows, along either diagonal) is divided by the range of luma around it (7 x 7), where that range
is large enough to be an edge rather than noise, and the steepest steps of the photo are read as
high percentiles, over all edges and per edge orientation. A sharp subject before an
out-of-focus background keeps steep edges; a photo blurred all over has none; motion blur
flattens the edges that lie across its direction only, so one orientation goes soft while the
others stay steep. Orientations with few edges carry no evidence: a sharp photo of a fence,
shelving or a barcode has edges of one orientation only, and v0.7.0's reader, which read each
step direction over all edges, took the missing directions for shake and failed such photos.
The pixels come from TILES small tiles spread over the whole photo (the subject is somewhere
among them), so the cost is the same for 2 MP and 48 MP.

A logistic head on those numbers, fitted on blur ladders (``training/sharpness_reader.py``), gives
the probability p of blur an inspector fails; p past the card's ``onset`` caps the score as the
exposure reader's does (``caps.probability_cap``). Photos no larger than the viewing size are not
read: there the overview sees what their raters saw.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..model.contract import SHARPNESS_BY_DIRECTION, SHARPNESS_BY_ORIENTATION
from .caps import cap_in_words, probability_cap
from .reading import detail_boxes

TILE, TILES = 128, 64  # 1 MP of pixels at most, on an even grid over the photo
NEIGHBOURHOOD = np.ones((7, 7), np.uint8)  # the local range a step is measured against
EDGE_RANGE = 24.0  # luma levels: a smaller local range is texture or noise, not an edge
# An orientation holding fewer than this share of the edge pixels is not read: a handful of edges
# (a fence's few diagonal ones) says nothing about shake.
ORIENTATION_SHARE = 0.05
TAN_22_5, TAN_67_5 = 0.41421356, 2.41421356  # the bounds between the four orientations
# An edge pixel's orientation is read from the luma smoothed at this sigma (px): the flat pixels
# beside an edge lie within its 7 x 7 range too and, read sharp, take a random orientation from
# their noise (a photo of bars then had every other orientation filled with small steps, and read
# as shaken); smoothed, they take the orientation of the edge they lie beside.
ORIENTATION_SIGMA = 2.0


def _local_range(luma: np.ndarray) -> np.ndarray:
    """Each pixel's range of luma over its NEIGHBOURHOOD (uint8), at the pixels a forward step leaves."""
    return (cv2.dilate(luma, NEIGHBOURHOOD) - cv2.erode(luma, NEIGHBOURHOOD))[:-1, :-1]


def steps_per_range(luma: np.ndarray) -> list[np.ndarray]:
    """Each edge pixel's step to its neighbour across columns, across rows and along both
    diagonals, over its local range (0-1): one array per direction. ``luma`` is uint8: the range
    and the steps are whole numbers, found in integer arithmetic, and only edge pixels are divided."""
    local_range = _local_range(luma)
    edge = local_range >= EDGE_RANGE
    divisor = local_range[edge].astype(np.float32)
    value = luma.astype(np.int16)
    steps = (value[:-1, 1:] - value[:-1, :-1], value[1:, :-1] - value[:-1, :-1],
             value[1:, 1:] - value[:-1, :-1], value[1:, :-1] - value[:-1, 1:])
    return [np.abs(step[edge]).astype(np.float32) / divisor for step in steps]


def steps_across_edges(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each edge pixel's step across its edge over its local range (0-1), and its edge's
    orientation (0: the step across columns, 1: across rows, 2: down-right, 3: down-left, as in
    ``steps_per_range``), the normal read from the Sobel gradient. Only edge pixels are gathered:
    one step each, from the flat tile."""
    h, w = luma.shape
    local_range = _local_range(luma)
    ys, xs = np.nonzero(local_range >= EDGE_RANGE)
    at = ys * w + xs  # in the flat tile
    smooth = cv2.GaussianBlur(luma.astype(np.float32), (0, 0), ORIENTATION_SIGMA)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3).ravel()[at]
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3).ravel()[at]
    ax, ay = np.abs(gx), np.abs(gy)
    orientation = np.where(ay <= TAN_22_5 * ax, 0, np.where(ay >= TAN_67_5 * ax, 1, np.where(gx * gy > 0, 2, 3)))
    to, frm = np.array([1, w, w + 1, w]), np.array([0, 0, 0, 1])  # each orientation's step: luma[at + to] - luma[at + frm]
    flat = luma.ravel().astype(np.int16)
    across = np.abs(flat[at + to[orientation]] - flat[at + frm[orientation]]).astype(np.float32)
    return across / local_range[ys, xs].astype(np.float32), orientation


def upper_percentiles(values: np.ndarray, percents, stride: int = 16) -> np.ndarray:
    """``np.percentile(values, percents)`` (linear) for high percentiles, partitioning only the
    values above a cut read from every ``stride``-th value: the percentiles of a million edge
    pixels were most of this reader's time (12 ms a direction; 3 ms so). Where the cut would leave
    out an order statistic wanted, the whole array is partitioned as numpy does."""
    n = values.size
    position = (n - 1) * np.asarray(percents, np.float64) / 100.0
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, n - 1)
    cut = np.percentile(values[::stride], max(0.0, 100.0 * low.min() / max(n - 1, 1) - 5.0))
    above = values[values >= cut]
    below = n - above.size
    if below > low.min():
        return np.percentile(values, percents)
    wanted = np.unique(np.concatenate([low, high])) - below
    ordered = dict(zip((wanted + below).tolist(), np.partition(above, wanted)[wanted].astype(np.float64)))
    a, b = np.array([ordered[k] for k in low.tolist()]), np.array([ordered[k] for k in high.tolist()])
    t = position - low
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)  # numpy's own interpolation


def _tiles(rgb: np.ndarray) -> tuple[list[np.ndarray], int]:
    """The luma of the TILES tiles the reader measures, and how many pixels they hold."""
    boxes = detail_boxes(*rgb.shape[:2], TILE, TILES)
    lumas = [cv2.cvtColor(np.ascontiguousarray(rgb[t:t + th, l:l + tw]), cv2.COLOR_RGB2GRAY) for t, l, th, tw in boxes]
    return lumas, sum(th * tw for _, _, th, tw in boxes)


def features_by_orientation(rgb: np.ndarray) -> np.ndarray:
    """What the head reads (SHARPNESS_FEATURE_SIZE numbers): the steepest steps across edges (90th,
    99th and 99.9th percentiles, all edges); over the orientations holding at least
    ORIENTATION_SHARE of the edges, the weakest one's 99th and 99.9th percentiles and how far the
    strongest one's lie above them (shake flattens the edges across its direction only: a photo
    with edges of one orientation shows none of that); and the log share of pixels on edges. The
    head's signs are held (``STEEPER_IS_SHARPER``): steeper edges never make blur likelier."""
    lumas, pixels = _tiles(rgb)
    per_tile = [steps_across_edges(luma) for luma in lumas]
    across = np.concatenate([steps for steps, _ in per_tile])
    orientation = np.concatenate([which for _, which in per_tile])
    edge_share = np.log(across.size / max(pixels, 1) + 1e-4)
    if across.size < 10:  # no edges at all (a blank or wholly flat photo): nothing steep
        return np.array([0.0] * 7 + [edge_share])
    overall = upper_percentiles(across, [90, 99, 99.9])
    enough = max(10, ORIENTATION_SHARE * across.size)
    read = [upper_percentiles(across[orientation == k], [99, 99.9]) for k in range(4) if np.sum(orientation == k) >= enough]
    per_orientation = np.array(read) if read else overall[None, 1:]  # [orientation, percentile]
    weakest, strongest = per_orientation.min(axis=0), per_orientation.max(axis=0)
    return np.array([*overall, *weakest, *(strongest - weakest), edge_share])


# The sign each weight of a head on ``features_by_orientation`` must take (on features scaled by
# positive numbers): -1 steepness (steeper: less likely blurred), +1 the spread between
# orientations (wider: likelier shaken), 0 free (the share of pixels on edges). A head fitted
# freely on v0.7.0's measures weighed the strongest direction up (+13): it read a sharp photo of
# bars, steeper than any it was fitted on, as shaken.
STEEPER_IS_SHARPER = (-1, -1, -1, -1, -1, +1, +1, 0)


def features_by_direction(rgb: np.ndarray) -> np.ndarray:
    """v0.7.0's measures, for the cards fitted on them: the steepest steps of the photo (90th, 99th
    and 99.9th percentiles, any direction); the weakest and the strongest step direction's 99th and
    99.9th percentiles over all edges; and the log share of pixels on edges."""
    lumas, pixels = _tiles(rgb)
    per_tile = [steps_per_range(luma) for luma in lumas]
    directions = [np.concatenate([steps[d] for steps in per_tile]) for d in range(4)]
    edge_share = np.log(directions[0].size / max(pixels, 1) + 1e-4)
    if directions[0].size < 10:  # no edges at all (a blank or wholly flat photo): nothing steep
        return np.array([0.0] * 7 + [edge_share])
    steepest = np.maximum(np.maximum(directions[0], directions[1]), np.maximum(directions[2], directions[3]))
    per_direction = np.array([upper_percentiles(d, [99, 99.9]) for d in directions])  # [direction, percentile]
    return np.array([*upper_percentiles(steepest, [90, 99, 99.9]),
                     *(f(per_direction[:, i]) for i in range(2) for f in (np.min, np.max)), edge_share])


# The measures a card's reader was fitted on, by the name the card gives them.
FEATURES = {SHARPNESS_BY_ORIENTATION: features_by_orientation, SHARPNESS_BY_DIRECTION: features_by_direction}


def sharpness_features(rgb: np.ndarray, features: str = SHARPNESS_BY_ORIENTATION) -> np.ndarray:
    return FEATURES[features](rgb)


@dataclass(frozen=True)
class SharpnessOpinion:
    score: float  # the most the score may be given this photo's sharpness (on the card's score range)
    probability: float  # of blur an inspector fails


@dataclass(frozen=True)
class SharpnessReader:
    center: np.ndarray  # [D] subtracted from the features ...
    scale: np.ndarray  # [D] ... which are then divided by this
    weights: np.ndarray  # [D]
    bias: float
    onset: float = 0.0
    features: str = SHARPNESS_BY_ORIENTATION  # which measures (FEATURES) the head was fitted on

    @classmethod
    def from_card(cls, card: dict) -> SharpnessReader | None:
        """The card's ``reading.sharpness`` block (checked by the model contract), or None."""
        block = (card.get("reading") or {}).get("sharpness")
        if not block:
            return None
        return cls(np.asarray(block["center"], np.float64), np.asarray(block["scale"], np.float64),
                   np.asarray(block["weights"], np.float64), float(block["bias"]), float(block.get("onset", 0.0)),
                   block["features"])

    def probability(self, features: np.ndarray):
        """For one photo's features ([D]: a number) or many ([N, D]: an array)."""
        z = (np.asarray(features, np.float64) - self.center) / self.scale
        p = 0.5 * (1.0 + np.tanh(0.5 * (z @ self.weights + self.bias)))  # the logistic function, no overflow
        return float(p) if z.ndim == 1 else p

    def read(self, rgb: np.ndarray, score_range: tuple[float, float] = (0.0, 100.0)) -> SharpnessOpinion:
        """The cap for a photo (the pixels the detail reader cuts its tiles from)."""
        p = self.probability(sharpness_features(rgb, self.features))
        return SharpnessOpinion(float(probability_cap(p, self.onset, score_range)), p)

    def to_card(self, meaning: str | None = None) -> dict:
        return {"features": self.features, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias, "onset": self.onset,
                "meaning": meaning or (
                    "a logistic head on how steep the photo's edges are (each edge pixel's step across its edge over the "
                    f"local range, read on {TILES} tiles of {TILE} px spread over the photo, over all edges and per edge "
                    "orientation) "
                    "gives the probability p that the photo is blurred past what an inspector accepts at 100 %; the score is "
                    f"capped at {cap_in_words(self.onset)}; photos no larger than the viewing size are not read")}
