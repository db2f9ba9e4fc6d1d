"""Mean opinion scores from raw ACR votes (Qt-free, numpy only).

Per photo: MOS, standard deviation, number of votes and the 95 % confidence interval from
Student's t (the exact quantile, ``app.core.stats``: scipy is not a run-time dependency), on the
1-5 ACR scale and mapped to the model's 0-100 scale. Which raters count is
``app.core.ratings.screening``'s business.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..stats import t95


def acr_to_100(value: float) -> float:
    """ACR 1 (Bad) .. 5 (Excellent) -> the model's 0..100 score scale."""
    return (value - 1.0) * 25.0


# --- MOS --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageMOS:
    image: str
    mos: float  # 1-5
    std: float
    n: int
    ci95: float  # half-width, 1-5 scale; NaN with one vote

    @property
    def mos100(self) -> float:
        return acr_to_100(self.mos)

    @property
    def ci100(self) -> float:
        return self.ci95 * 25.0

    def text(self, scale100: bool = False) -> str:
        """``3.80 ± 0.56 (5 votes)``; ``± ?`` where one vote gives no interval."""
        mos, ci = (self.mos100, self.ci100) if scale100 else (self.mos, self.ci95)
        digits = 0 if scale100 else 2
        spread = "?" if math.isnan(ci) else f"{ci:.{digits}f}"
        return f"{mos:.{digits}f} ± {spread} ({self.n} vote{'s' if self.n != 1 else ''})"


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


def votes_per_photo_text(mos: dict[str, ImageMOS], scale100: bool = False) -> str:
    """``40 photos, 3-7 votes each (median 5), 95 % CI median ±0.62 ACR`` (or ``±16 of 100``)."""
    if not mos:
        return "no rated photos"
    n = np.array([m.n for m in mos.values()])
    ci = np.array([m.ci95 for m in mos.values() if not math.isnan(m.ci95)])
    spread = f"{n.min()}" if n.min() == n.max() else f"{n.min()}-{n.max()} (median {np.median(n):g})"
    ci_text = ""
    if len(ci):
        ci_text = f", 95 % CI median ±{np.median(ci) * 25:.0f} of 100" if scale100 else \
            f", 95 % CI median ±{np.median(ci):.2f} ACR"
    return f"{len(mos)} photo{'s' if len(mos) != 1 else ''}, {spread} vote{'s' if n.max() != 1 else ''} each{ci_text}"


def write_mos_csv(mos: dict[str, ImageMOS], path: str | Path) -> Path:
    """``image,mos,std,n,ci95`` on the model's 0-100 scale: the meta format the training pipeline
    reads (it takes image, mos and std; n and the CI half-width are for people)."""
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "mos", "std", "n", "ci95"])
        for m in sorted(mos.values(), key=lambda m: m.image):
            writer.writerow([m.image, f"{m.mos100:.4f}", f"{m.std * 25:.4f}", m.n,
                             "" if math.isnan(m.ci95) else f"{m.ci100:.4f}"])
    return path
