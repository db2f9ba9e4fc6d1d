"""The sharpness reader: whether a photo larger than the viewing size is blurred (out of focus,
shaken) beyond what an inspector accepts at 100 %.

Why a reader apart from the networks: a photo of 12-48 MP blurred by 4 px is soft at fit only a
little, and the detail network, trained on rated photos of 500 px, reads a blurred tile of sky
or wall as it reads a clean one, so v0.6.0 failed 38 % of such copies (motion blur of 15 px:
23 %). What tells them apart is how steep the photo's edges are: at a sharp edge the luma
changes by much of the local range from one pixel to the next; blur of σ px spreads every
change over several pixels, whatever the content. So each pixel's step to its neighbour (across
columns, across rows and along both diagonals) is divided by the range of luma around it
(7 x 7), where that range is large enough to be an edge rather than noise, and the steepest
steps of the photo are read as high percentiles. A sharp subject before an out-of-focus background keeps steep edges; a photo
blurred all over has none; motion blur flattens the steps along its direction only. The pixels
come from TILES small tiles spread over the whole photo (the subject is somewhere among them),
so the cost is the same for 2 MP and 48 MP.

A logistic head on those numbers, fitted on blur ladders (``training/sharpness_reader.py``), gives
the probability p of blur an inspector fails; p past the card's ``onset`` caps the score as the
exposure reader's does (``caps.probability_cap``). Photos no larger than the viewing size are not
read: there the overview sees what their raters saw.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..model.contract import SHARPNESS_FEATURES
from .caps import cap_in_words, probability_cap
from .reading import detail_boxes

TILE, TILES = 128, 64  # 1 MP of pixels at most, on an even grid over the photo
NEIGHBOURHOOD = np.ones((7, 7), np.uint8)  # the local range a step is measured against
EDGE_RANGE = 24.0  # luma levels: a smaller local range is texture or noise, not an edge


def steps_per_range(luma: np.ndarray) -> list[np.ndarray]:
    """Each edge pixel's step to its neighbour across columns, across rows and along both
    diagonals, over its local range (0-1): one array per direction. ``luma`` is uint8: the range
    and the steps are whole numbers, found in integer arithmetic, and only edge pixels are divided."""
    local_range = (cv2.dilate(luma, NEIGHBOURHOOD) - cv2.erode(luma, NEIGHBOURHOOD))[:-1, :-1]
    edge = local_range >= EDGE_RANGE
    divisor = local_range[edge].astype(np.float32)
    value = luma.astype(np.int16)
    steps = (value[:-1, 1:] - value[:-1, :-1], value[1:, :-1] - value[:-1, :-1],
             value[1:, 1:] - value[:-1, :-1], value[1:, :-1] - value[:-1, 1:])
    return [np.abs(step[edge]).astype(np.float32) / divisor for step in steps]


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


def sharpness_features(rgb: np.ndarray) -> np.ndarray:
    """What the head reads (SHARPNESS_FEATURE_SIZE numbers): the steepest steps of the photo (90th,
    99th and 99.9th percentiles, any direction); the weakest and the strongest direction's 99th and
    99.9th percentiles (shake flattens one direction only); and the log share of pixels on edges."""
    h, w = rgb.shape[:2]
    boxes = detail_boxes(h, w, TILE, TILES)
    per_tile = [steps_per_range(cv2.cvtColor(np.ascontiguousarray(rgb[t:t + th, l:l + tw]), cv2.COLOR_RGB2GRAY))
                for t, l, th, tw in boxes]
    directions = [np.concatenate([steps[d] for steps in per_tile]) for d in range(4)]
    edge_share = np.log(directions[0].size / max(sum(th * tw for _, _, th, tw in boxes), 1) + 1e-4)
    if directions[0].size < 10:  # no edges at all (a blank or wholly flat photo): nothing steep
        return np.array([0.0] * 7 + [edge_share])
    steepest = np.maximum(np.maximum(directions[0], directions[1]), np.maximum(directions[2], directions[3]))
    per_direction = np.array([upper_percentiles(d, [99, 99.9]) for d in directions])  # [direction, percentile]
    return np.array([*upper_percentiles(steepest, [90, 99, 99.9]),
                     *(f(per_direction[:, i]) for i in range(2) for f in (np.min, np.max)), edge_share])


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

    @classmethod
    def from_card(cls, card: dict) -> SharpnessReader | None:
        """The card's ``reading.sharpness`` block (checked by the model contract), or None."""
        block = (card.get("reading") or {}).get("sharpness")
        if not block:
            return None
        return cls(np.asarray(block["center"], np.float64), np.asarray(block["scale"], np.float64),
                   np.asarray(block["weights"], np.float64), float(block["bias"]), float(block.get("onset", 0.0)))

    def probability(self, features: np.ndarray):
        """For one photo's features ([D]: a number) or many ([N, D]: an array)."""
        z = (np.asarray(features, np.float64) - self.center) / self.scale
        p = 0.5 * (1.0 + np.tanh(0.5 * (z @ self.weights + self.bias)))  # the logistic function, no overflow
        return float(p) if z.ndim == 1 else p

    def read(self, rgb: np.ndarray, score_range: tuple[float, float] = (0.0, 100.0)) -> SharpnessOpinion:
        """The cap for a photo (the pixels the detail reader cuts its tiles from)."""
        p = self.probability(sharpness_features(rgb))
        return SharpnessOpinion(float(probability_cap(p, self.onset, score_range)), p)

    def to_card(self, meaning: str | None = None) -> dict:
        return {"features": SHARPNESS_FEATURES, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "weights": self.weights.tolist(), "bias": self.bias, "onset": self.onset,
                "meaning": meaning or (
                    "a logistic head on how steep the photo's edges are (each pixel's step to its neighbours over the "
                    f"local range, read on {TILES} tiles of {TILE} px spread over the photo, in any direction and in each) "
                    "gives the probability p that the photo is blurred past what an inspector accepts at 100 %; the score is "
                    f"capped at {cap_in_words(self.onset)}; photos no larger than the viewing size are not read")}
