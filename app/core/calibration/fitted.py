"""A fitted site calibration as it is stored (plain JSON, with the model version) and applied to
every score, with what its nested cross-validation showed."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import cached_property

import numpy as np

from ..stats import above_zero
from .monotone import apply_monotone
from .residual import read_residual

# 4: the residual may read the pooled backbone stages after the embedding; 3: the residual may be a
# kernel ridge; 2: a monotone map + ridge; 1: a ridge on [embedding, score]
FORMAT = 4

# A map that turns the model's order around needs far more evidence than the 95 % rule: on ratings
# of pure noise the score ranks 150 photos at SRCC -0.2 by chance in about 1 fit in 40, and the
# reversing map then "gains" beyond that rule (Apply was offered on 8 of 400 noise sites). It is offered
# only where the model's own SRCC lies below 0 at about 1 in 1,000 (Fisher's z for Spearman's
# rho, standard error 1.06 / sqrt(n - 3)): -0.28 on 150 photos, -0.20 on 300, -0.14 on 600.
REVERSAL_Z = 3.29


def reversal_bar(n: int) -> float:
    """The SRCC the model must rank the site's photos below for a reversing map to be offered:
    ``REVERSAL_Z`` standard errors below 0 on Fisher's z scale, mapped back to rho."""
    return float(np.tanh(-REVERSAL_Z * 1.06 / np.sqrt(max(n - 3, 1))))


def surely_below_zero(rho: float, n: int) -> bool:
    """Spearman's rho on ``n`` photos lies below 0 beyond ``REVERSAL_Z`` standard errors."""
    return n > 3 and bool(np.isfinite(rho)) and rho < reversal_bar(n)


@dataclass(frozen=True)
class Calibration:
    """``map``: the monotone map of the raw score (None in a format-1 calibration);
    ``mean``/``std``/``weights``/``bias``: the residual learner on the standardised embedding,
    followed by ``stage_values`` pooled backbone-stage values where it was fitted on them (empty
    weights: none); ``kernel`` ({"gamma", "support"}) when that learner is a kernel ridge, whose
    weights are then one per support photo."""

    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    lam: float | None
    n: int
    cv_srcc: float
    cv_plcc: float
    base_srcc: float
    base_plcc: float
    map: dict | None = None
    gain_ci: list[float] | None = None  # 95 % paired bootstrap of cv_srcc - base_srcc
    cv_srcc_ci: list[float] | None = None
    base_srcc_ci: list[float] | None = None
    min_votes: int | None = None
    ridge_folds: int | None = None  # outer folds whose inner choice included a residual learner
    folds: int | None = None
    format: int = 1
    kernel: dict | None = None
    stage_values: int = 0

    def can_read(self, embedding, stages) -> bool:
        """Whether a stored score carries what the calibration reads (a score stored before
        embeddings or pooled stages were kept does not: it keeps its raw score)."""
        if embedding is None:
            return False
        if not (self.weights and self.stage_values):
            return True  # it reads the score and the embedding alone
        return stages is not None and len(stages) == self.stage_values

    @property
    def gain(self) -> float:
        return self.cv_srcc - self.base_srcc

    @property
    def reverses(self) -> bool:
        """The map turns the model's order around (the site's raters rank the other way)."""
        return bool(self.map) and self.map.get("b", 0.0) < 0

    @property
    def surely_reversed(self) -> bool:
        """The model ranks the site's photos against its raters beyond chance (``REVERSAL_Z``)."""
        return surely_below_zero(self.base_srcc, self.n)

    @property
    def helps(self) -> bool:
        """Better than the model alone beyond noise, on photos left out of every choice; a map
        that turns the model's order around only where the site surely ranks the other way."""
        return above_zero(self.gain_ci) and not self.reversal_unsure

    @property
    def reversal_unsure(self) -> bool:
        """It would gain beyond the 95 % rule, but only by turning the model's order around,
        which the rated photos do not show surely enough: held back."""
        return above_zero(self.gain_ci) and self.reverses and not self.surely_reversed

    def describe(self) -> str:
        """What the fit is, in one clause."""
        if self.map is None:
            return "a ridge on embedding + score (fitted before intervals were computed)"
        shape = "linear" if self.map["kind"] == "linear" else "4-parameter logistic"
        if not self.weights:
            return f"{shape} map of the score (no residual learner: none earned its place)"
        reads = "the embedding and the pooled backbone stages" if self.stage_values else "the embedding"
        if self.kernel:
            return (f"{shape} map of the score + kernel ridge on {reads} (λ {self.lam:g}, "
                    f"{len(self.weights)} rated photos kept as its support)")
        return f"{shape} map of the score + ridge on {reads} (λ {self.lam:g})"

    @cached_property
    def _arrays(self) -> dict:
        # Built once per calibration: applying it to a million stored scores calls apply per row.
        a = {name: np.asarray(getattr(self, name), float) for name in ("mean", "std", "weights")}
        if self.kernel:
            a["support"] = np.asarray(self.kernel["support"], float)
        return a

    def apply(self, embedding, score: float, stages=None) -> float:
        return float(self.apply_many([embedding], [score], None if stages is None else [stages])[0])

    def apply_many(self, embeddings, scores, stages=None) -> np.ndarray:
        """The calibrated scores of several photos at once (one row of ``embeddings`` and, for a
        calibration that reads them, of ``stages`` each): a kernel ridge reads its whole support
        per photo, so a chunk of stored scores is one matrix product instead of a loop."""
        a, s = self._arrays, np.asarray(scores, float)
        emb = np.asarray(embeddings, float).reshape(len(s), -1)
        if self.stage_values and self.weights:
            if stages is None:
                raise ValueError("this calibration reads the pooled backbone stages, and the scores have none")
            emb = np.hstack([emb, np.asarray(stages, float).reshape(len(s), -1)])
        if self.map is None:  # format 1: ridge on the standardised [embedding, score]
            x = (np.column_stack([emb, s]) - a["mean"]) / a["std"]
            return np.clip(x @ a["weights"] + self.bias, 0.0, 100.0)
        pred = apply_monotone(self.map, s)
        if self.weights:
            pred = pred + read_residual((emb - a["mean"]) / a["std"], a["weights"], self.bias, a.get("support"),
                                        self.kernel["gamma"] if self.kernel else None)
        return np.clip(pred, 0.0, 100.0)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Calibration:
        """Any format: format 1 (no ``format`` key) was a ridge on [embedding, score]."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
