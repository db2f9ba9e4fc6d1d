"""Mean opinion scores from raw ACR votes, and rater screening (Qt-free, numpy only).

- Per image: MOS, standard deviation, number of votes, 95 % confidence interval
  (Student's t for small samples), on the 1-5 ACR scale and mapped to the model's 0-100 scale.
- Rater screening after ITU-R BT.500 (annex on observer screening): for each image, a vote is
  an outlier when it lies beyond 2 standard deviations of the image's mean (beyond sqrt(20)
  standard deviations when the image's votes are far from normal, kurtosis outside 2-4); a rater
  is rejected when more than 5 % of their votes are outliers and those lean neither clearly up
  nor down (|P - Q| / (P + Q) < 0.3). Rejected raters are flagged, never deleted; the MOS is
  available with and without them.
- Gold images: share of a rater's gold votes within tolerance of the known answer.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Two-sided 95 % Student t quantiles for 1..30 degrees of freedom; 1.96 beyond.
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
       2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(df: int) -> float:
    return T95[df - 1] if 1 <= df <= len(T95) else 1.96


def acr_to_100(value: float) -> float:
    """ACR 1 (Bad) .. 5 (Excellent) -> the model's 0..100 score scale."""
    return (value - 1.0) * 25.0


@dataclass(frozen=True)
class ImageMOS:
    image: str
    mos: float  # 1-5
    std: float
    n: int
    ci95: float  # half-width, 1-5 scale

    @property
    def mos100(self) -> float:
        return acr_to_100(self.mos)


@dataclass(frozen=True)
class RaterScreening:
    rater: str
    votes: int
    outliers_high: int  # P
    outliers_low: int  # Q
    gold_votes: int = 0
    gold_correct: int = 0
    correlation: float = math.nan  # Pearson r with the other raters' mean on the same photos (P.913)
    outlier_rule: bool = False  # rejected by the BT.500 P/Q rule

    @property
    def rejected(self) -> bool:
        """By BT.500's P/Q rule, or by too weak a correlation with the other raters."""
        return self.outlier_rule or (not math.isnan(self.correlation) and self.correlation < MIN_CORRELATION)

    @property
    def gold_accuracy(self) -> float:
        return self.gold_correct / self.gold_votes if self.gold_votes else math.nan


def image_mos(votes: list[tuple[str, str, int]], exclude: set[str] = frozenset()) -> dict[str, ImageMOS]:
    """``votes``: (rater, image, value 1-5). Raters in ``exclude`` are left out."""
    by_image: dict[str, list[int]] = defaultdict(list)
    for rater, image, value in votes:
        if rater not in exclude:
            by_image[image].append(value)
    out = {}
    for image, values in by_image.items():
        v = np.asarray(values, float)
        n = len(v)
        std = float(v.std(ddof=1)) if n > 1 else 0.0
        ci = t95(n - 1) * std / math.sqrt(n) if n > 1 else math.nan
        out[image] = ImageMOS(image, float(v.mean()), std, n, ci)
    return out


def screen_raters(votes: list[tuple[str, str, int]], gold: dict[str, tuple[int, int]] | None = None) -> dict[str, RaterScreening]:
    """BT.500 screening of every rater; ``gold``: image -> (expected, tolerance)."""
    by_image: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for rater, image, value in votes:
        by_image[image].append((rater, value))
    p, q, n = defaultdict(int), defaultdict(int), defaultdict(int)
    for image, pairs in by_image.items():
        v = np.asarray([val for _, val in pairs], float)
        for rater, _ in pairs:
            n[rater] += 1
        if len(v) < 3:
            continue
        mean, std = v.mean(), v.std(ddof=1)
        m2 = ((v - mean) ** 2).mean()
        kurtosis = ((v - mean) ** 4).mean() / m2**2 if m2 > 0 else 3.0
        reach = (2.0 if 2.0 <= kurtosis <= 4.0 else math.sqrt(20.0)) * std
        for rater, val in pairs:
            if val > mean + reach:
                p[rater] += 1
            elif val < mean - reach:
                q[rater] += 1
    gold_n, gold_ok = defaultdict(int), defaultdict(int)
    for rater, image, value in votes:
        if gold and image in gold:
            expected, tolerance = gold[image]
            gold_n[rater] += 1
            gold_ok[rater] += abs(value - expected) <= tolerance
    correlations = rater_correlations(by_image)
    result = {}
    for rater in n:
        out = p[rater] + q[rater]
        outlier_rule = out / n[rater] > 0.05 and abs(p[rater] - q[rater]) / out < 0.3 if out else False
        result[rater] = RaterScreening(rater, n[rater], p[rater], q[rater], gold_n[rater], gold_ok[rater],
                                       correlations.get(rater, math.nan), outlier_rule)
    return result


# ITU-T P.913 screens a rater whose votes correlate poorly with everyone else's. The BT.500 P/Q
# rule alone misses a random rater among few raters (their own votes widen every photo's spread
# so they seldom fall outside it): seen with 5 consistent + 1 random rater on 100 photos.
# Threshold: honest raters of simulated panels (integer votes, noise 0.5 ACR steps) correlate
# 0.70-0.87 with the others, random ones -0.2..0.15; P.913's 0.75 example would reject honest ones.
MIN_CORRELATION = 0.5
MIN_SHARED_PHOTOS = 10


def rater_correlations(by_image: dict[str, list[tuple[str, int]]]) -> dict[str, float]:
    """Per rater: Pearson r between their votes and the mean of the other raters' votes on the
    photos they share (only photos someone else rated too; at least MIN_SHARED_PHOTOS)."""
    pairs: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for votes in by_image.values():
        if len(votes) < 2:
            continue
        total = sum(v for _, v in votes)
        for rater, value in votes:
            mine, others = pairs[rater]
            mine.append(value)
            others.append((total - value) / (len(votes) - 1))
    out = {}
    for rater, (mine, others) in pairs.items():
        if len(mine) >= MIN_SHARED_PHOTOS and np.std(mine) > 0 and np.std(others) > 0:
            out[rater] = float(np.corrcoef(mine, others)[0, 1])
    return out


def write_mos_csv(mos: dict[str, ImageMOS], path: str | Path) -> Path:
    """``name,mos,std,n`` on the model's 0-100 scale: the meta format the training pipeline reads."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "mos", "std", "n"])
        for m in sorted(mos.values(), key=lambda m: m.image):
            writer.writerow([m.image, f"{m.mos100:.4f}", f"{m.std * 25:.4f}", m.n])
    return path
