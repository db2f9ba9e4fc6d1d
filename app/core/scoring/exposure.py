"""The exposure reader: whether a photo is over- or under-exposed beyond what an inspector accepts.

Why a reader apart from the rated score: the people who rated the training photos were lenient
on exposure (LIVEC's crowd gave its near-black photos a median MOS of 48), so a network that
learnt their MOS ranks a photo 2 stops over below its clean original but does not fail it, while
an inspector fails it at a glance. Two logistic heads (over, under) on the overview's embedding
(the one stored with every score) and the overview's luma histogram are fitted on exposure ladders of rated photos in linear light
(``training/exposure_reader.py``); the card carries their weights. Their opinion,
100 x (1 - the surer head's probability), caps the score: it can only lower it, and a photo whose
exposure is fine (both probabilities near 0) keeps the score its other readers gave.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KINDS = ("over", "under")
HISTOGRAM_BINS = 16
# What the heads read, in this order: the overview's embedding, then the share of the overview's
# pixels in each of 16 equal bins of luma (Rec. 601). The embedding alone left 17 % of clean
# photos capped below 60 in cross-validation: a network trained to rank quality keeps little of
# where the tones sit, which is what exposure is.
FEATURES = ("embedding", "luminance_histogram")


def luminance_histogram(rgb: np.ndarray) -> np.ndarray:
    """Share of the pixels in each of HISTOGRAM_BINS equal bins of luma (0-255)."""
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    counts = np.histogram(luma, bins=HISTOGRAM_BINS, range=(0, 256))[0]
    return counts / max(1, luma.size)


def exposure_features(embedding: np.ndarray, view: np.ndarray, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """What the heads read, from the overview's embedding and its pixels (``view``)."""
    parts = {"embedding": lambda: np.asarray(embedding, np.float64).reshape(-1),
             "luminance_histogram": lambda: luminance_histogram(view)}
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

    @classmethod
    def from_card(cls, card: dict) -> ExposureReader | None:
        """The card's ``reading.exposure`` block (checked by the model contract), or None."""
        block = (card.get("reading") or {}).get("exposure")
        if not block:
            return None
        return cls(center=np.asarray(block["center"], np.float64), scale=np.asarray(block["scale"], np.float64),
                   weights={k: np.asarray(block[k]["weights"], np.float64) for k in KINDS},
                   bias={k: float(block[k]["bias"]) for k in KINDS}, features=tuple(block["features"]))

    def embedding_size(self) -> int:
        """How many embedding values the heads read (the rest of the features are the histogram's)."""
        return int(self.center.size) - (HISTOGRAM_BINS if "luminance_histogram" in self.features else 0)

    def probabilities(self, features: np.ndarray) -> dict[str, float]:
        z = (features - self.center) / self.scale
        return {k: float(1.0 / (1.0 + np.exp(-(z @ self.weights[k] + self.bias[k])))) for k in KINDS}

    def read(self, embedding: np.ndarray, view: np.ndarray,
             score_range: tuple[float, float] = (0.0, 100.0)) -> ExposureOpinion:
        """The cap for a photo whose overview (``view``, the pixels the network read) gave ``embedding``."""
        p = self.probabilities(exposure_features(embedding, view, self.features))
        kind = max(KINDS, key=p.get)
        low, high = score_range
        return ExposureOpinion(low + (high - low) * (1.0 - p[kind]), kind, p[kind])

    def to_card(self, meaning: str | None = None) -> dict:
        block = {"features": list(self.features), "center": self.center.tolist(), "scale": self.scale.tolist()}
        block |= {k: {"weights": self.weights[k].tolist(), "bias": self.bias[k]} for k in KINDS}
        block["meaning"] = meaning or (
            "two logistic heads on the overview's embedding and its luma histogram (16 bins) give the probability "
            "that the photo is over- or under-exposed beyond what an inspector accepts; 100 x (1 - the larger) caps "
            "the score")
        return block

