"""The second, optional part of a site calibration: what the monotone map of the score leaves
over (the residual), learnt from the model's ``embedding``, for what the site's raters see that
the score does not. Two learners, each fitted for a whole path of strengths at once:
- a ridge: a linear read of the standardised embedding;
- a kernel ridge (Gaussian kernel): a smooth non-linear read, for what a line through the
  embedding misses. On a real site whose photos the base model had not learnt (LIVEC's phone
  photos for a model trained on BIQ2021 alone) the linear ridge recovered about half of what a
  fine-tune did at 150-300 rated photos, the kernel about four fifths (training/README.md).
  It keeps the rated photos' embeddings (the support) to apply itself.
"""
from __future__ import annotations

import numpy as np

RIDGE_LAMBDAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
KERNEL_LAMBDAS = (0.3, 1.0, 3.0, 10.0)
# The kernel's width: exp(-d^2 / D) for D standardised dimensions, whose squared distance between
# two photos is about 2 D on average, so a typical pair weighs exp(-2) and near ones far more.
KERNEL_WIDTH = 1.0
SUPPORT_DECIMALS = 5  # the stored support (standardised values near ±1): under 1 MB at 1,000 photos


def standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = x.mean(0), x.std(0)
    return mean, np.where(std == 0, 1.0, std)


def ridge_path(z: np.ndarray, r: np.ndarray, lams) -> list[np.ndarray]:
    """Ridge weights for every λ from one SVD (z standardised, r centred)."""
    u, sv, vt = np.linalg.svd(z, full_matrices=False)
    ur = u.T @ r
    return [vt.T @ (sv / (sv ** 2 + lam) * ur) for lam in lams]


def kernel_gamma(dimensions: int) -> float:
    return KERNEL_WIDTH / max(dimensions, 1)


def gaussian_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-gamma * np.maximum(squared, 0.0))


def kernel_path(z: np.ndarray, r: np.ndarray, lams) -> tuple[np.ndarray, float, list[np.ndarray]]:
    """(support, gamma, dual weights for every λ) from one eigendecomposition of the kernel
    matrix (z standardised, r centred). The support is rounded before the fit, so what is stored
    is exactly what was fitted."""
    support = np.round(z, SUPPORT_DECIMALS)
    gamma = kernel_gamma(z.shape[1])
    values, vectors = np.linalg.eigh(gaussian_kernel(support, support, gamma))
    vr = vectors.T @ r
    return support, gamma, [vectors @ (vr / (np.maximum(values, 0.0) + lam)) for lam in lams]


def read_residual(z: np.ndarray, weights: np.ndarray, bias: float, support: np.ndarray | None = None,
                  gamma: float | None = None) -> np.ndarray:
    """What a fitted residual learner adds for the standardised embeddings ``z`` (one per row):
    a ridge reads ``z`` with its weights, a kernel ridge reads its kernel against the support."""
    if support is None:
        return z @ weights + bias
    return gaussian_kernel(z, support, gamma) @ weights + bias
