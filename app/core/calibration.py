"""Quick, torch-free calibration of a model to a site's own ratings.

A ridge regression from the model's ``embedding`` (and its score) to the site's MOS, fitted in
well under a second. Before it is applied, k-fold cross-validation reports the SRCC/PLCC the
calibrated scores reach on ratings they were not fitted on, next to the uncalibrated model's,
so a supervisor sees whether it helps. The result is plain JSON, stored with the model version.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

LAMBDAS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)


def ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), as Spearman's rho needs."""
    x = np.asarray(x, float)
    order = np.argsort(x, kind="mergesort")
    r = np.empty(len(x))
    r[order] = np.arange(len(x), dtype=float)
    sorted_x = x[order]
    start = 0
    for i in range(1, len(x) + 1):
        if i == len(x) or sorted_x[i] != sorted_x[start]:
            r[order[start:i]] = (start + i - 1) / 2.0
            start = i
    return r


def plcc(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def srcc(a, b) -> float:
    return plcc(ranks(a), ranks(b))


@dataclass(frozen=True)
class Calibration:
    mean: list[float]
    std: list[float]
    weights: list[float]
    bias: float
    lam: float
    n: int
    cv_srcc: float
    cv_plcc: float
    base_srcc: float
    base_plcc: float

    def apply(self, embedding: np.ndarray, score: float) -> float:
        x = (np.append(np.asarray(embedding, float), score) - np.asarray(self.mean)) / np.asarray(self.std)
        return float(np.clip(x @ np.asarray(self.weights) + self.bias, 0.0, 100.0))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Calibration:
        return cls(**d)


def _features(embeddings, scores):
    return np.column_stack([np.asarray(embeddings, float), np.asarray(scores, float)])


def _fit(x: np.ndarray, y: np.ndarray, lam: float):
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    z = (x - mean) / std
    bias = y.mean()
    w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (y - bias))
    return mean, std, w, bias


def _predict(model, x):
    mean, std, w, bias = model
    return ((x - mean) / std) @ w + bias


def _folds(n: int, k: int, seed: int):
    order = np.random.default_rng(seed).permutation(n)
    return [order[i::k] for i in range(k)]


def cross_validated(x, y, lam: float, k: int, seed: int) -> np.ndarray:
    pred = np.empty(len(y))
    for fold in _folds(len(y), k, seed):
        train = np.setdiff1d(np.arange(len(y)), fold)
        pred[fold] = _predict(_fit(x[train], y[train], lam), x[fold])
    return pred


def fit_calibration(embeddings, scores, mos, k: int = 5, seed: int = 0) -> Calibration:
    """Choose the ridge strength by k-fold CV, report CV SRCC/PLCC, fit on all ratings."""
    x, y = _features(embeddings, scores), np.asarray(mos, float)
    if len(y) < 2 * k:
        raise ValueError(f"calibration needs at least {2 * k} rated photos, got {len(y)}")
    best = max(LAMBDAS, key=lambda lam: srcc(cross_validated(x, y, lam, k, seed), y))
    cv = cross_validated(x, y, best, k, seed)
    mean, std, w, bias = _fit(x, y, best)
    return Calibration(
        mean.tolist(), std.tolist(), w.tolist(), float(bias), best, len(y),
        srcc(cv, y), plcc(cv, y), srcc(scores, y), plcc(scores, y),
    )
