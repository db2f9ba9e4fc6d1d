"""The statistics the station's claims rest on, written once (numpy only: scipy is not a
runtime dependency): Student's t exactly, average ranks, SRCC and PLCC, and the paired bootstrap
that says whether a change of scores is better beyond noise.

MOS intervals (``app.core.ratings``), the site calibration (``app.core.calibration``) and
fine-tuning (``training.finetune``) all judge with these functions, so "better" means one thing.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

BOOTSTRAP = 2000  # resamples of a paired bootstrap


# --- Student's t, exactly -----------------------------------------------------------------
def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@lru_cache(maxsize=512)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on the exact CDF, to about 1e-12)."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"t quantile needs 0 < p < 1 and df > 0, not p={p}, df={df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))  # Cauchy: exact
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def t95(df: int) -> float:
    """The two-sided 95 % Student t factor for ``df`` degrees of freedom."""
    return t_quantile(0.975, df)


# --- ranks and correlations -------------------------------------------------------------------
def _row_ranks(m: np.ndarray) -> np.ndarray:
    """Average ranks (0-based; ties share the mean of their positions) of every row of ``m``."""
    m = np.atleast_2d(np.asarray(m, float))
    rows, n = m.shape
    order = np.argsort(m, axis=1, kind="mergesort")
    s = np.take_along_axis(m, order, axis=1)
    pos = np.broadcast_to(np.arange(n), (rows, n))
    starts = np.ones((rows, n), bool)
    starts[:, 1:] = s[:, 1:] != s[:, :-1]
    ends = np.ones((rows, n), bool)
    ends[:, :-1] = s[:, :-1] != s[:, 1:]
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, n)[:, ::-1], axis=1)[:, ::-1]
    out = np.empty((rows, n))
    np.put_along_axis(out, order, (first + last) / 2.0, axis=1)
    return out


def ranks(x) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), as Spearman's rho needs."""
    return _row_ranks(np.asarray(x, float)[None])[0]


def _row_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / den
    return np.where(den > 1e-12, r, np.nan)


def plcc(a, b) -> float:
    return float(_row_pearson(np.asarray(a, float)[None], np.asarray(b, float)[None])[0])


def srcc(a, b) -> float:
    return plcc(ranks(a), ranks(b))


def bootstrap_interval(draws: np.ndarray, level: float = 0.95) -> list[float] | None:
    """The percentile interval of bootstrap ``draws`` (None from fewer than 10 finite draws)."""
    draws = draws[np.isfinite(draws)]
    if len(draws) < 10:
        return None
    tail = (1 - level) / 2 * 100
    return [float(v) for v in np.percentile(draws, [tail, 100 - tail])]


def above_zero(interval: list[float] | None) -> bool:
    """A gain counts only when its whole 95 % interval lies above 0 (better beyond noise); no
    interval (too few photos, a constant prediction) shows nothing."""
    return interval is not None and interval[0] > 0


def below_zero(interval: list[float] | None) -> bool:
    """The whole 95 % interval lies below 0: worse beyond noise."""
    return interval is not None and interval[1] < 0


@dataclass(frozen=True)
class PairedComparison:
    """SRCC of two sets of predictions of the same photos against their MOS, and of the gain
    (after - before), each with a paired bootstrap 95 % interval: the same resampled photos for
    both, so what both get right or wrong together cancels out of the gain."""

    n: int
    before: float
    after: float
    before_ci: list[float] | None
    after_ci: list[float] | None
    gain_ci: list[float] | None
    resamples: int = BOOTSTRAP

    @property
    def gain(self) -> float:
        return self.after - self.before

    @property
    def better(self) -> bool:
        """Better beyond noise: the gain's interval lies above 0, and so does the new predictions'
        own SRCC. A gain alone can come from a version that merely stops ranking a few photos
        backwards (a base that anti-correlates with their votes by chance) and ranks them no
        better than chance itself."""
        return above_zero(self.gain_ci) and above_zero(self.after_ci)

    @property
    def worse(self) -> bool:
        """The gain's interval lies entirely below 0: worse beyond noise. A comparison without an
        interval (too few photos, or a constant prediction) cannot show anything."""
        if not np.isfinite(self.after):
            return True  # predictions that do not rank the photos at all
        return below_zero(self.gain_ci)

    def describe(self) -> str:
        def ci(v):
            return f" [{v[0]:+.3f}, {v[1]:+.3f}]" if v else " [no interval]"

        return (f"SRCC {self.before:.3f} → {self.after:.3f} on {self.n} photos, gain {self.gain:+.3f}"
                f"{ci(self.gain_ci)} (95 % paired bootstrap)")

    def to_json(self) -> dict:
        return asdict(self) | {"gain": self.gain, "better": self.better, "worse": self.worse}


def compare_srcc(mos, before, after, resamples: int = BOOTSTRAP, seed: int = 0) -> PairedComparison:
    """Paired bootstrap of SRCC(before) and SRCC(after) against ``mos`` on the same photos."""
    y, a, b = (np.asarray(v, float) for v in (mos, before, after))
    n = len(y)
    if not (len(a) == len(b) == n):
        raise ValueError("mos, before and after must describe the same photos")
    rng = np.random.default_rng(seed)
    draws_a, draws_b = [], []
    for start in range(0, resamples, 500):  # bounded memory: 500 resamples at a time
        idx = rng.integers(0, n, (min(500, resamples - start), n))
        ry = _row_ranks(y[idx])
        draws_a.append(_row_pearson(_row_ranks(a[idx]), ry))
        draws_b.append(_row_pearson(_row_ranks(b[idx]), ry))
    da, db = np.concatenate(draws_a), np.concatenate(draws_b)
    ok = n >= 4
    return PairedComparison(n, srcc(a, y), srcc(b, y), bootstrap_interval(da) if ok else None,
                            bootstrap_interval(db) if ok else None, bootstrap_interval(db - da) if ok else None, resamples)
