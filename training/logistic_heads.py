"""Logistic heads with soft targets, and the choice of their L2 weight by cross-validation over
photos (a photo's copies never straddle folds): what the card's readers (exposure, sharpness)
are fitted with."""
from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

log = logging.getLogger(__name__)


def fit_logistic(x: np.ndarray, target: np.ndarray, l2: float,
                 signs: Sequence[int] | None = None) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic head with soft targets (cross-entropy + l2/2 |w|^2); with
    ``signs``, each weight held at or below 0 (-1), at or above 0 (+1) or free (0)."""
    d = x.shape[1]

    def loss(p):
        w, b = p[:d], p[d]
        z = x @ w + b
        grad = expit(z) - target
        value = np.mean(np.logaddexp(0.0, z) - target * z) + 0.5 * l2 * (w @ w)
        return value, np.concatenate([x.T @ grad / len(target) + l2 * w, [grad.mean()]])

    bounds = None if signs is None else [{-1: (None, 0.0), 1: (0.0, None), 0: (None, None)}[k] for k in signs] + [(None, None)]
    result = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 1000})
    return result.x[:d], float(result.x[d])


def soft_entropy(p: np.ndarray, target: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))


def photo_folds(photo: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each row's fold, drawn per photo (seeded)."""
    return np.random.default_rng(seed).integers(0, folds, photo.max() + 1)[photo]


def cross_validated_l2(x: np.ndarray, targets: dict[str, np.ndarray], fold: np.ndarray, l2_grid: Sequence[float],
                       folds: int, signs: Sequence[int] | None = None
                       ) -> tuple[float, dict[float, float], dict[float, dict[str, np.ndarray]]]:
    """(the best L2 weight, the cross-validated loss of each, each one's out-of-fold predictions per
    head): one head per target, their losses summed; ``signs`` as for ``fit_logistic``."""
    cv_loss, cv_pred = {}, {}
    for l2 in l2_grid:
        pred = {k: np.zeros(len(x)) for k in targets}
        for f in range(folds):
            train, test = fold != f, fold == f
            for k, target in targets.items():
                w, b = fit_logistic(x[train], target[train], l2, signs)
                pred[k][test] = expit(x[test] @ w + b)
        cv_loss[l2] = sum(soft_entropy(pred[k], targets[k]) for k in targets)
        cv_pred[l2] = pred
        log.info("l2 %g: cross-validated loss %.4f", l2, cv_loss[l2])
    return min(cv_loss, key=cv_loss.get), cv_loss, cv_pred
