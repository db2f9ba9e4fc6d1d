"""The exposure reader: whether a photo is over- or under-exposed beyond what an inspector accepts.

Why a reader apart from the rated score: the people who rated the training photos were lenient
on exposure (LIVEC's crowd gave its near-black photos a median MOS of 48), so a network that
learnt their MOS ranks a photo 2 stops over below its clean original but does not fail it, while
an inspector fails it at a glance. Two logistic heads (over, under) on the overview's embedding
(the one stored with every score) and the overview's tones (luma histogram, clipped and crushed
pixels) are fitted on exposure ladders of rated photos in linear light
(``training/exposure_reader.py``); the card carries their weights. The surer head's probability
p caps the score once it passes the card's ``onset``: the cap falls from the top of the score
range at p = onset to its bottom at p = 1. It can only lower a score, and a photo whose exposure
is fine (p below the onset) keeps the score its other readers gave.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.contract import EXPOSURE_FEATURE_SIZES  # the contract checks a card's block by these sizes
from .caps import cap_in_words, probability_cap

KINDS = ("over", "under")
HISTOGRAM_BINS = EXPOSURE_FEATURE_SIZES["luminance_histogram"]
TONE_STATISTICS = EXPOSURE_FEATURE_SIZES["tone_statistics"]
# What the heads read, in this order: the overview's embedding; the share of the overview's
# pixels in each of 16 equal bins of luma (Rec. 601); and tone statistics (clipped and crushed
# pixels per channel, luma percentiles). Fitted on training ladders, the embedding alone left 17 %
# of clean photos capped below 60 in cross-validation: a network trained to rank quality keeps
# little of where the tones sit, which is what exposure is; the statistics see a channel that
# clips where luma does not (2 stops over: 62 % -> 66 % capped below 40).
FEATURES = ("embedding", "luminance_histogram", "tone_statistics")


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def luminance_histogram(rgb: np.ndarray) -> np.ndarray:
    """Share of the pixels in each of HISTOGRAM_BINS equal bins of luma (0-255)."""
    luma = _luma(rgb)
    counts = np.histogram(luma, bins=HISTOGRAM_BINS, range=(0, 256))[0]
    return counts / max(1, luma.size)


def tone_statistics(rgb: np.ndarray) -> np.ndarray:
    """TONE_STATISTICS numbers of where a photo's tones sit: the share of pixels clipped (>= 250) in
    each channel, in any and in all channels; crushed to black (<= 5 in all); luma at the 1st,
    5th, 25th, 50th, 75th, 95th and 99th percentiles (0-1); the share in each channel's top
    sixteenth (240-255)."""
    clipped = rgb >= 250
    luma = _luma(rgb)
    n = max(1, luma.size)
    values = [clipped[..., c].mean() for c in range(3)] + [clipped.any(-1).mean(), clipped.all(-1).mean(),
                                                           (rgb <= 5).all(-1).mean()]
    values += list(np.percentile(luma, [1, 5, 25, 50, 75, 95, 99]) / 255.0)
    values += [np.count_nonzero(rgb[..., c] >= 240) / n for c in range(3)]
    return np.asarray(values, np.float64)


def exposure_features(embedding: np.ndarray, view: np.ndarray, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """What the heads read, from the overview's embedding and its pixels (``view``)."""
    parts = {"embedding": lambda: np.asarray(embedding, np.float64).reshape(-1),
             "luminance_histogram": lambda: luminance_histogram(view), "tone_statistics": lambda: tone_statistics(view)}
    return np.concatenate([parts[name]() for name in features])


@dataclass(frozen=True)
class ExposureOpinion:
    score: float  # the most the score may be given this photo's exposure (on the card's score range)
    kind: str  # "over" or "under": the surer head
    probability: float  # that head's probability of an exposure an inspector fails


@dataclass(frozen=True)
class ExposureReader:
    center: np.ndarray  # [D] subtracted from the features ...
    scale: np.ndarray  # [D] ... which are then divided by this
    weights: dict[str, np.ndarray]  # per kind, [D]
    bias: dict[str, float]
    features: tuple[str, ...] = FEATURES
    onset: float = 0.0  # the probability past which the cap falls (cards of before the onset: 0)

    @classmethod
    def from_card(cls, card: dict) -> ExposureReader | None:
        """The card's ``reading.exposure`` block (checked by the model contract), or None."""
        block = (card.get("reading") or {}).get("exposure")
        if not block:
            return None
        return cls(center=np.asarray(block["center"], np.float64), scale=np.asarray(block["scale"], np.float64),
                   weights={k: np.asarray(block[k]["weights"], np.float64) for k in KINDS},
                   bias={k: float(block[k]["bias"]) for k in KINDS}, features=tuple(block["features"]),
                   onset=float(block.get("onset", 0.0)))

    def embedding_size(self) -> int:
        """How many embedding values the heads read (the rest of the features are the histogram's)."""
        return int(self.center.size) - sum(EXPOSURE_FEATURE_SIZES.get(name, 0) for name in self.features)

    def probabilities(self, features: np.ndarray) -> dict[str, float | np.ndarray]:
        """Per head, the probability for one photo's features ([D]: a number) or for many ([N, D]:
        an array, as training judges a reader on ladders)."""
        z = (np.asarray(features, np.float64) - self.center) / self.scale
        # the logistic function written through tanh: no overflow for a feature far from the centre
        p = {k: 0.5 * (1.0 + np.tanh(0.5 * (z @ self.weights[k] + self.bias[k]))) for k in KINDS}
        return {k: float(v) for k, v in p.items()} if z.ndim == 1 else p

    def read(self, embedding: np.ndarray, view: np.ndarray,
             score_range: tuple[float, float] = (0.0, 100.0)) -> ExposureOpinion:
        """The cap for a photo whose overview (``view``, the pixels the network read) gave ``embedding``."""
        p = self.probabilities(exposure_features(embedding, view, self.features))
        kind = max(KINDS, key=p.get)
        return ExposureOpinion(float(probability_cap(p[kind], self.onset, score_range)), kind, p[kind])

    def to_card(self, meaning: str | None = None) -> dict:
        block = {"features": list(self.features), "center": self.center.tolist(), "scale": self.scale.tolist(),
                 "onset": self.onset}
        block |= {k: {"weights": self.weights[k].tolist(), "bias": self.bias[k]} for k in KINDS}
        block["meaning"] = meaning or (
            "two logistic heads on the overview's embedding, its luma histogram (16 bins) and tone statistics "
            "(clipped and crushed pixels, luma percentiles) give the probability p that the photo is over- or "
            f"under-exposed beyond what an inspector accepts, p the larger; the score is capped at {cap_in_words(self.onset)}")
        return block

