"""Quick, torch-free calibration of a model to a site's own ratings (numpy only); whether it helps
is judged by ``app.core.stats`` (the paired bootstrap of SRCC).

The calibration is fitted in two parts, each earning its place:
1. an unpenalised monotone map of the model's raw score onto the site's MOS (linear, or a
   4-parameter logistic ``a + b * sigmoid((s - c) / d)``), so the model's own ranking is kept at
   full weight however few photos are rated;
2. optionally a ridge regression from the model's ``embedding`` to what the map leaves over
   (the residual), for what the site's raters see that the score does not.

Which map and whether a ridge (and its strength) are chosen by cross-validation *inside* each
fold of an outer cross-validation (nested), so the SRCC reported for photos left out of the fit
was never used to choose anything. The gain over the model alone comes with a paired bootstrap
95 % interval; it *helps* only when that interval lies above zero. The result is plain JSON,
stored with the model version (format 2; calibrations stored before it, a ridge on embedding +
score, still load and apply as they were fitted).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .stats import BOOTSTRAP, above_zero, compare_srcc, plcc

LAMBDAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
FORMAT = 2


# --- the monotone map of the raw score ------------------------------------------------------
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def fit_monotone(s, y, kind: str = "logistic") -> dict:
    """Least-squares monotone map of scores ``s`` onto ``y``: ``linear`` (a + b*s) or ``logistic``
    (a + b*sigmoid((s - c)/d), d > 0; for each (c, d) on a grid the best a, b is closed-form, so
    the fit never fails to converge). b may be negative: a site whose raters rank the photos the
    other way round gets a decreasing map. No penalty: the score keeps its full weight."""
    s, y = np.asarray(s, float), np.asarray(y, float)
    spread = float(np.std(s))
    if spread == 0:
        raise ValueError("the model gives every rated photo the same score: nothing to calibrate")

    def closed_form(g: np.ndarray):  # columns of g: candidate features; best a, b per column
        gm, ym = g.mean(axis=0), y.mean()
        var = ((g - gm) ** 2).sum(axis=0)
        cov = ((g - gm) * (y - ym)[:, None]).sum(axis=0)
        b = np.where(var > 1e-12, cov / np.maximum(var, 1e-12), 0.0)
        return ym - b * gm, b, ((y - ym) ** 2).sum() - b * cov

    a, b, sse = closed_form(s[:, None])
    best = {"kind": "linear", "a": float(a[0]), "b": float(b[0]), "c": 0.0, "d": 0.0}
    if kind == "linear":
        return best
    cs = np.quantile(s, np.linspace(0.1, 0.9, 17))
    ds = spread * np.geomspace(0.15, 4.0, 16)
    c, d = (v.ravel() for v in np.meshgrid(cs, ds))
    a, b, err = closed_form(_sigmoid((s[:, None] - c) / d))
    i = int(np.argmin(err))
    return {"kind": "logistic", "a": float(a[i]), "b": float(b[i]), "c": float(c[i]), "d": float(d[i])}


def apply_monotone(m: dict, s) -> np.ndarray:
    s = np.asarray(s, float)
    if m["kind"] == "linear":
        return m["a"] + m["b"] * s
    return m["a"] + m["b"] * _sigmoid((s - m["c"]) / m["d"])


# --- the residual ridge ------------------------------------------------------------------------
def _standardise(x: np.ndarray):
    mean, std = x.mean(0), x.std(0)
    std = np.where(std == 0, 1.0, std)
    return mean, std


def _ridge_path(z: np.ndarray, r: np.ndarray, lams) -> list[np.ndarray]:
    """Ridge weights for every λ from one SVD (z standardised, r centred)."""
    u, sv, vt = np.linalg.svd(z, full_matrices=False)
    ur = u.T @ r
    return [vt.T @ (sv / (sv ** 2 + lam) * ur) for lam in lams]


@dataclass(frozen=True)
class _Choice:
    kind: str  # monotone map: "linear" or "logistic"
    lam: float | None  # ridge strength on the residual; None: no ridge


# Simplest first (ties go to the earlier): linear before logistic, no ridge, then the strongest penalty.
CHOICES = tuple(_Choice(k, lam) for k in ("linear", "logistic") for lam in (None, *sorted(LAMBDAS, reverse=True)))


def _fit_all(emb, s, y, kinds=("linear", "logistic"), lams=LAMBDAS):
    """Every candidate fitted on (emb, s, y): choice -> (map, mean, std, weights, bias)."""
    out = {}
    mean, std = _standardise(emb)
    z = (emb - mean) / std
    for kind in kinds:
        m = fit_monotone(s, y, kind)
        r = y - apply_monotone(m, s)
        bias = float(r.mean())
        out[_Choice(kind, None)] = (m, None, None, None, 0.0)
        for lam, w in zip(lams, _ridge_path(z, r - bias, lams)):
            out[_Choice(kind, lam)] = (m, mean, std, w, bias)
    return out


def _predict(model, emb, s, clip: bool = True) -> np.ndarray:
    m, mean, std, w, bias = model
    pred = apply_monotone(m, s)
    if w is not None:
        pred = pred + ((emb - mean) / std) @ w + bias
    return np.clip(pred, 0.0, 100.0) if clip else pred


def _in_score_units(model, emb, s) -> np.ndarray:
    """A fold's held-out predictions with that fold's monotone map undone (and turned the way the
    map runs): the raw score plus what the ridge adds, in the score's units. Pooling held-out
    predictions of several folds otherwise mixes several maps, whose differing offsets shuffle
    the pooled ranking in a way the one stored calibration never would (in a simulation a map
    alone, which cannot change a ranking, lost 0.02-0.06 SRCC at 20 photos); a map alone now
    ranks exactly as the raw score, and only the ridge (or a reversing map) can change it."""
    m = model[0]
    pred = _predict(model, emb, s, clip=False)
    if m["kind"] == "linear":
        units = (pred - m["a"]) / m["b"] if m["b"] else np.asarray(s, float)
    else:
        p = np.clip((pred - m["a"]) / m["b"], 1e-12, 1 - 1e-12) if m["b"] else _sigmoid((s - m["c"]) / m["d"])
        units = m["c"] + m["d"] * np.log(p / (1 - p))
    return units if m["b"] >= 0 else -units


def _folds(n: int, k: int, seed: int) -> list[np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def _cv_errors(emb, s, y, k: int, seed: int) -> dict:
    """Pooled squared error of every candidate on the folds it was not fitted on."""
    sse = {c: 0.0 for c in CHOICES}
    for fold in _folds(len(y), k, seed):
        train = np.setdiff1d(np.arange(len(y)), fold)
        for choice, model in _fit_all(emb[train], s[train], y[train]).items():
            sse[choice] += float(((_predict(model, emb[fold], s[fold]) - y[fold]) ** 2).sum())
    return sse


def _choose(emb, s, y, k: int, seed: int) -> _Choice:
    """The candidate with the lowest cross-validated error; a simpler one wins ties (within 1 %),
    so the logistic map and the ridge are there only where they earn their place."""
    sse = _cv_errors(emb, s, y, k, seed)
    best = min(sse.values())
    return next(c for c in CHOICES if sse[c] <= best * 1.01)


@dataclass(frozen=True)
class Calibration:
    """A fitted calibration and what the fit showed. ``map``: the monotone map of the raw score
    (None in a format-1 calibration); ``mean``/``std``/``weights``/``bias``: the ridge on the
    embedding (empty weights: none)."""

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
    ridge_folds: int | None = None  # outer folds whose inner choice included the ridge
    folds: int | None = None
    format: int = 1

    @property
    def gain(self) -> float:
        return self.cv_srcc - self.base_srcc

    @property
    def helps(self) -> bool:
        """Better than the model alone beyond noise, on photos left out of every choice."""
        return above_zero(self.gain_ci)

    def describe(self) -> str:
        """What the fit is, in one clause."""
        if self.map is None:
            return "a ridge on embedding + score (fitted before intervals were computed)"
        shape = "linear" if self.map["kind"] == "linear" else "4-parameter logistic"
        ridge = f" + ridge on the embedding (λ {self.lam:g})" if self.weights else " (no ridge: it did not earn its place)"
        return f"{shape} map of the score{ridge}"

    def apply(self, embedding: np.ndarray, score: float) -> float:
        if self.map is None:  # format 1: ridge on the standardised [embedding, score]
            x = (np.append(np.asarray(embedding, float), score) - np.asarray(self.mean)) / np.asarray(self.std)
            return float(np.clip(x @ np.asarray(self.weights) + self.bias, 0.0, 100.0))
        pred = float(apply_monotone(self.map, score))
        if self.weights:
            z = (np.asarray(embedding, float) - np.asarray(self.mean)) / np.asarray(self.std)
            pred += float(z @ np.asarray(self.weights)) + self.bias
        return float(np.clip(pred, 0.0, 100.0))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Calibration:
        """Either format: format 1 (no ``format`` key) was a ridge on [embedding, score]."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})


def fit_calibration(embeddings, scores, mos, k: int = 5, seed: int = 0, min_votes: int | None = None,
                    resamples: int = BOOTSTRAP) -> Calibration:
    """Nested cross-validation of the whole procedure (map, ridge or not, λ: chosen by an inner
    k-fold on each outer training part), its gain over the raw score with a paired bootstrap
    interval, then the procedure run once more on every rated photo for the stored fit."""
    emb = np.asarray(embeddings, float).reshape(len(scores), -1)
    s, y = np.asarray(scores, float), np.asarray(mos, float)
    if len(y) < 2 * k:
        raise ValueError(f"calibration needs at least {2 * k} rated photos, got {len(y)}")
    if np.std(s) == 0:
        raise ValueError("the model gives every rated photo the same score: nothing to calibrate")
    pred, units = np.empty(len(y)), np.empty(len(y))
    ridge_folds = 0
    for i, fold in enumerate(_folds(len(y), k, seed)):
        train = np.setdiff1d(np.arange(len(y)), fold)
        inner = min(k, len(train) // 2)
        choice = _choose(emb[train], s[train], y[train], inner, seed + 1 + i)
        ridge_folds += choice.lam is not None
        model = _fit_all(emb[train], s[train], y[train], (choice.kind,), (choice.lam,) if choice.lam else ())[choice]
        pred[fold] = _predict(model, emb[fold], s[fold])
        units[fold] = _in_score_units(model, emb[fold], s[fold])
    comparison = compare_srcc(y, s, units, resamples, seed)
    final = _choose(emb, s, y, k, seed)
    m, mean, std, w, bias = _fit_all(emb, s, y, (final.kind,), (final.lam,) if final.lam else ())[final]
    ridge = w is not None
    return Calibration(
        mean.tolist() if ridge else [], std.tolist() if ridge else [], w.tolist() if ridge else [],
        float(bias), final.lam, len(y), comparison.after, plcc(pred, y), comparison.before, plcc(s, y),
        map=m, gain_ci=comparison.gain_ci, cv_srcc_ci=comparison.after_ci, base_srcc_ci=comparison.before_ci,
        min_votes=min_votes, ridge_folds=ridge_folds, folds=k, format=FORMAT,
    )
