"""Fitting a site calibration: which monotone map, whether a residual learner (ridge or kernel
ridge) and its strength are chosen by cross-validation *inside* each fold of an outer
cross-validation (nested), so the SRCC reported for photos left out of the fit was never used to
choose anything. The gain over the model alone comes with a paired bootstrap 95 % interval."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stats import BOOTSTRAP, compare_srcc, plcc
from .fitted import FORMAT, Calibration
from .monotone import KINDS, apply_monotone, fit_monotone, in_score_units
from .residual import KERNEL_LAMBDAS, RIDGE_LAMBDAS, kernel_path, read_residual, ridge_path, standardise


@dataclass(frozen=True)
class Choice:
    kind: str  # monotone map: "linear" or "logistic"
    residual: str | None = None  # None, "ridge" or "kernel"
    lam: float | None = None


# Simplest first (ties go to the earlier): linear before logistic; no residual, then the ridge,
# then the kernel; each from its strongest penalty down.
CHOICES = tuple(
    c for kind in KINDS for c in (
        Choice(kind),
        *(Choice(kind, "ridge", lam) for lam in sorted(RIDGE_LAMBDAS, reverse=True)),
        *(Choice(kind, "kernel", lam) for lam in sorted(KERNEL_LAMBDAS, reverse=True)),
    ))


@dataclass(frozen=True)
class Fitted:
    """One candidate fitted on some rated photos."""

    map: dict
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    weights: np.ndarray | None = None  # None: no residual learner
    bias: float = 0.0
    support: np.ndarray | None = None  # a kernel ridge's standardised embeddings
    gamma: float | None = None

    def predict(self, emb, s, clip: bool = True) -> np.ndarray:
        pred = apply_monotone(self.map, s)
        if self.weights is not None:
            pred = pred + read_residual((emb - self.mean) / self.std, self.weights, self.bias, self.support, self.gamma)
        return np.clip(pred, 0.0, 100.0) if clip else pred


def fit_candidates(emb, s, y, choices=CHOICES) -> dict[Choice, Fitted]:
    """Every choice in ``choices`` fitted on (emb, s, y); each learner's strengths share one
    decomposition."""
    out: dict[Choice, Fitted] = {}
    mean, std = standardise(emb)
    z = (emb - mean) / std
    for kind in dict.fromkeys(c.kind for c in choices):
        m = fit_monotone(s, y, kind)
        r = y - apply_monotone(m, s)
        bias = float(r.mean())
        wanted = [c for c in choices if c.kind == kind]
        if Choice(kind) in wanted:
            out[Choice(kind)] = Fitted(m)
        ridge = [c for c in wanted if c.residual == "ridge"]
        for c, w in zip(ridge, ridge_path(z, r - bias, [c.lam for c in ridge])):
            out[c] = Fitted(m, mean, std, w, bias)
        kernel = [c for c in wanted if c.residual == "kernel"]
        if kernel:
            support, gamma, duals = kernel_path(z, r - bias, [c.lam for c in kernel])
            for c, w in zip(kernel, duals):
                out[c] = Fitted(m, mean, std, w, bias, support, gamma)
    return out


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _choose(emb, s, y, k: int, seed: int) -> Choice:
    """The candidate with the lowest pooled squared error on the folds it was not fitted on; a
    simpler one wins ties (within 1 %), so the logistic map and a residual learner are there only
    where they earn their place."""
    sse = dict.fromkeys(CHOICES, 0.0)
    for fold in _folds(len(y), k, seed):
        train = np.setdiff1d(np.arange(len(y)), fold)
        for choice, fitted in fit_candidates(emb[train], s[train], y[train]).items():
            sse[choice] += float(((fitted.predict(emb[fold], s[fold]) - y[fold]) ** 2).sum())
    best = min(sse.values())
    return next(c for c in CHOICES if sse[c] <= best * 1.01)


def fit_calibration(embeddings, scores, mos, k: int = 5, seed: int = 0, min_votes: int | None = None,
                    resamples: int = BOOTSTRAP, stages=None) -> Calibration:
    """Nested cross-validation of the whole procedure (map, residual learner or none, its
    strength: chosen by an inner k-fold on each outer training part), its gain over the raw score
    with a paired bootstrap interval, then the procedure run once more on every rated photo for
    the stored fit. ``stages``: each photo's pooled backbone stages (or None), which the residual
    learner reads after its embedding where every photo has them, of one length (a calibration
    reads one set of features for all; else the embedding alone)."""
    emb = np.asarray(embeddings, float).reshape(len(scores), -1)
    stage_values = 0
    if stages is not None and all(st is not None for st in stages) and len({len(st) for st in stages}) == 1:
        stages = np.asarray(stages, float).reshape(len(scores), -1)
        emb, stage_values = np.hstack([emb, stages]), stages.shape[1]
    s, y = np.asarray(scores, float), np.asarray(mos, float)
    if len(y) < 2 * k:
        raise ValueError(f"calibration needs at least {2 * k} rated photos, got {len(y)}")
    if np.std(s) == 0:
        raise ValueError("the model gives every rated photo the same score: nothing to calibrate")
    pred, units = np.empty(len(y)), np.empty(len(y))
    residual_folds = 0
    for i, fold in enumerate(_folds(len(y), k, seed)):
        train = np.setdiff1d(np.arange(len(y)), fold)
        choice = _choose(emb[train], s[train], y[train], min(k, len(train) // 2), seed + 1 + i)
        residual_folds += choice.residual is not None
        fitted = fit_candidates(emb[train], s[train], y[train], (choice,))[choice]
        pred[fold] = fitted.predict(emb[fold], s[fold])
        units[fold] = in_score_units(fitted.map, fitted.predict(emb[fold], s[fold], clip=False), s[fold])
    comparison = compare_srcc(y, s, units, resamples, seed)
    final = _choose(emb, s, y, k, seed)
    f = fit_candidates(emb, s, y, (final,))[final]
    residual = f.weights is not None
    return Calibration(
        f.mean.tolist() if residual else [], f.std.tolist() if residual else [],
        f.weights.tolist() if residual else [], float(f.bias), final.lam, len(y), comparison.after, plcc(pred, y),
        comparison.before, plcc(s, y), map=f.map, gain_ci=comparison.gain_ci, cv_srcc_ci=comparison.after_ci,
        base_srcc_ci=comparison.before_ci, min_votes=min_votes, ridge_folds=residual_folds, folds=k, format=FORMAT,
        kernel={"gamma": f.gamma, "support": f.support.tolist()} if f.support is not None else None,
        stage_values=stage_values if residual else 0,
    )
