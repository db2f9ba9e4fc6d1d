"""The maximum-likelihood subject model of ITU-T P.913 (2021) clause 12 / Li & Bampis (DCC 2017,
"Recover subjective quality scores from noisy measurements"), Qt-free, numpy only.

Each vote of rater ``i`` on photo ``j`` is modelled as

    x_ij = psi_j + delta_i + sqrt(upsilon_i**2 + phi_j**2) * N(0, 1)

- ``psi_j``: the photo's quality (the MOS this model recovers),
- ``delta_i``: the rater's bias (a lenient rater > 0, a strict one < 0),
- ``upsilon_i``: the rater's inconsistency (how far their votes scatter once the bias is known),
- ``phi_j``: the photo's ambiguity (how far careful raters disagree on it).

Unlike BT.500's screening it needs no minimum number of votes per photo: every rater's bias and
inconsistency are estimated from all their votes at once, so it works on sparse designs (each
photo seen by 3-5 of many raters, as in crowdsourcing). Written here from the paper's equations.

Solver: the paper's alternating updates. With the variances fixed, ``psi`` and ``delta`` have
closed forms (inverse-variance weighted means of the residuals); each variance is then moved by
one Newton-Raphson step on the log-likelihood (taken on the variance, ``upsilon**2``, so a photo
whose ambiguity starts at 0 can leave it), guarded: where the curvature is not negative the
method-of-moments value is used instead, and a step that lowers that parameter's likelihood is
halved. Repeated until ``psi`` moves less than ``tol``.

Confidence intervals come from the Fisher information, as in the paper: the variance of ``psi_j``
is ``1 / sum_i 1 / (upsilon_i**2 + phi_j**2)``; that of ``upsilon_i`` is
``1 / (2 upsilon_i**2 sum_j 1 / v_ij**2)``.

Two choices of ours, needed for a well-posed fit:
- ``psi`` and ``delta`` are known only up to a shared constant. We fix it as the paper's
  reference implementation does in spirit: the raters' biases average to 0, separately within
  each group of raters and photos linked by votes (two panels that share no photo have no
  common scale to compare their biases on).
- A rater's inconsistency is at least sqrt(1/12), the spread of rounding a continuous opinion
  to an integer ACR level (photos' ambiguity may be 0). Without a floor the likelihood is
  unbounded (a rater with one vote, on a photo nobody else rated, fits it with zero variance).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

AMBIGUITY_MIN_VOTES = 10  # see fit_subject_model
MIN_VARIANCE = 1.0 / 12.0  # rounding to an integer level; see the module docstring
Z95 = 1.959963984540054  # the normal 97.5 % quantile: the paper's Fisher-information intervals


@dataclass(frozen=True)
class SubjectModel:
    """The fitted model; arrays are indexed like ``raters`` and ``photos``."""

    raters: list[str]
    photos: list[str]
    quality: np.ndarray  # psi, ACR scale
    quality_ci95: np.ndarray  # half-width
    bias: np.ndarray  # delta
    bias_ci95: np.ndarray
    inconsistency: np.ndarray  # upsilon
    inconsistency_ci95: np.ndarray
    ambiguity: np.ndarray  # phi
    votes_per_rater: np.ndarray
    votes_per_photo: np.ndarray
    iterations: int
    converged: bool
    log_likelihood: float

    def rater(self, key: str) -> int:
        return self.raters.index(key)

    def photo_quality(self) -> dict[str, tuple[float, float]]:
        """photo -> (psi, 95 % CI half-width)."""
        return {p: (float(q), float(c)) for p, q, c in zip(self.photos, self.quality, self.quality_ci95)}


def _groups(ri: np.ndarray, pj: np.ndarray, n_raters: int, n_photos: int) -> tuple[np.ndarray, np.ndarray]:
    """The group (linked by votes) of each rater and of each photo: union-find on the
    rater-photo graph, groups numbered 0..k-1."""
    parent = list(range(n_raters + n_photos))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for r, p in zip(ri.tolist(), pj.tolist()):
        a, b = find(r), find(n_raters + p)
        if a != b:
            parent[a] = b
    _, group = np.unique([find(k) for k in range(n_raters + n_photos)], return_inverse=True)
    return group[:n_raters], group[n_raters:]


def _loglik(resid2: np.ndarray, v: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * v) + resid2 / v)


def fit_subject_model(votes: list[tuple[str, str, float]], max_iter: int = 2000, tol: float = 1e-7,
                      own_ambiguity_from: int = AMBIGUITY_MIN_VOTES) -> SubjectModel:
    """Fit the model to ``votes`` = (rater, photo, value). Raises ValueError without votes."""
    if not votes:
        raise ValueError("no votes to fit the subject model to")
    raters = sorted({r for r, _, _ in votes})
    photos = sorted({p for _, p, _ in votes})
    r_index = {r: k for k, r in enumerate(raters)}
    p_index = {p: k for k, p in enumerate(photos)}
    ri = np.array([r_index[r] for r, _, _ in votes])
    pj = np.array([p_index[p] for _, p, _ in votes])
    x = np.array([float(v) for _, _, v in votes])
    nr, npho = len(raters), len(photos)
    rater_group, photo_group = _groups(ri, pj, nr, npho)
    raters_in_group = np.bincount(rater_group).astype(float)

    def by_rater(values):
        return np.bincount(ri, values, minlength=nr)

    def by_photo(values):
        return np.bincount(pj, values, minlength=npho)

    n_r, n_p = by_rater(np.ones_like(x)), by_photo(np.ones_like(x))
    # Ambiguity: a photo's own where it has the votes to tell it from its raters' inconsistency,
    # else one value shared by the photos with fewer.
    own = n_p >= own_ambiguity_from
    amb_of_photo = np.where(own, np.cumsum(own) - 1, own.sum())
    n_amb = int(own.sum()) + int((~own).any())
    cj = amb_of_photo[pj]

    def by_ambiguity(values):
        return np.bincount(cj, values, minlength=n_amb)

    n_c = by_ambiguity(np.ones_like(x))

    def centre(psi, delta):
        # The shared constant: biases average to 0 within each linked group.
        shift = np.bincount(rater_group, delta) / raters_in_group
        return psi + shift[photo_group], delta - shift[rater_group]

    def variance_step(var, other, index, count, total, floor):
        """One guarded Newton step on each variance parameter ``var`` (``other``: the variance
        each vote adds to it; ``index``: which parameter a vote belongs to; ``total``: the
        matching per-parameter sum)."""
        r2 = (x - psi[pj] - delta[ri]) ** 2
        v = var[index] + other
        w = 1.0 / v
        grad = total(0.5 * w * (r2 * w - 1.0))
        hess = total(0.5 * w**2 - r2 * w**3)
        newton = var - grad / np.where(hess < 0, hess, -1.0)
        moments = total(r2 - other) / count
        proposal = np.maximum(np.where(hess < 0, newton, moments), floor)
        before = total(_loglik(r2, v))
        after = before
        for _ in range(40):  # halve a step that lowers that parameter's likelihood
            after = total(_loglik(r2, proposal[index] + other))
            worse = after < before - 1e-12
            if not worse.any():
                break
            proposal = np.where(worse, 0.5 * (proposal + var), proposal)
        return np.where(after < before - 1e-12, var, proposal)

    # Start: plain means, bias = mean residual, inconsistency = residual spread, ambiguity 0.
    psi = by_photo(x) / n_p
    delta = by_rater(x - psi[pj]) / n_r
    psi, delta = centre(psi, delta)
    s = np.maximum(by_rater((x - psi[pj] - delta[ri]) ** 2) / n_r, MIN_VARIANCE)  # upsilon**2
    t = np.zeros(n_amb)  # phi**2, per ambiguity group

    converged, iterations = False, 0
    for iterations in range(1, max_iter + 1):
        old = np.concatenate([psi, delta, s, t])
        w = 1.0 / (s[ri] + t[cj])
        psi = by_photo(w * (x - delta[ri])) / by_photo(w)
        delta = by_rater(w * (x - psi[pj])) / by_rater(w)
        psi, delta = centre(psi, delta)
        s = variance_step(s, t[cj], ri, n_r, by_rater, MIN_VARIANCE)
        t = variance_step(t, s[ri], cj, n_c, by_ambiguity, 0.0)
        if np.max(np.abs(np.concatenate([psi, delta, s, t]) - old)) < tol:
            converged = True
            break

    v = s[ri] + t[cj]
    w = 1.0 / v
    resid2 = (x - psi[pj] - delta[ri]) ** 2
    return SubjectModel(
        raters=raters,
        photos=photos,
        quality=psi,
        quality_ci95=Z95 / np.sqrt(by_photo(w)),
        bias=delta,
        bias_ci95=Z95 / np.sqrt(by_rater(w)),
        inconsistency=np.sqrt(s),
        inconsistency_ci95=Z95 / np.sqrt(2.0 * s * by_rater(w**2)),
        ambiguity=np.sqrt(t)[amb_of_photo],
        votes_per_rater=n_r.astype(int),
        votes_per_photo=n_p.astype(int),
        iterations=iterations,
        converged=converged,
        log_likelihood=float(_loglik(resid2, v).sum()),
    )


def inconsistency_reference(model: SubjectModel) -> float:
    """The panel's typical inconsistency: the median over raters (robust to a few bad ones)."""
    return float(np.median(model.inconsistency)) if len(model.raters) else math.nan
