"""Simulated raters whose votes scatter around each photo's laboratory MOS (issue 24's site):
a pool of raters, each with a lasting bias (normal, ``bias_sd`` ACR steps), ``per_photo`` of them
rating every photo, each vote the photo's MOS on the 1-5 ACR scale + the rater's bias + fresh
noise (normal, ``noise_sd``), rounded and clipped to 1-5, as an ACR panel answers.

Votes are drawn for the whole site at once in a fixed photo order, so a site rated in part (the
benchmark's n photos) gets exactly the votes the whole site would: adding photos changes none.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HEADER = ("rater", "photo", "vote", "time")  # the program's own import layout (ratings import)


def acr_from_mos100(mos100: float) -> float:
    """A MOS on 0-100 (BIQ2021's 0-1 min-max scaled ACR, times 100) back on the 1-5 ACR scale."""
    return 1.0 + 4.0 * float(mos100) / 100.0


@dataclass(frozen=True)
class RaterPanel:
    per_photo: int = 5
    pool: int = 20  # raters in all; a photo's ``per_photo`` are drawn from them
    bias_sd: float = 0.25
    noise_sd: float = 0.6
    seed: int = 0

    def biases(self) -> np.ndarray:
        return np.random.default_rng([self.seed, 1]).normal(0.0, self.bias_sd, self.pool)


@dataclass(frozen=True)
class Vote:
    rater: str
    photo: str
    vote: int
    time: datetime


def draw_votes(photos: list[tuple[str, float]], panel: RaterPanel = RaterPanel()) -> list[Vote]:
    """Votes on every (path, MOS 0-100) photo, in the order given (keep it fixed: sorted paths)."""
    if panel.per_photo > panel.pool:
        raise ValueError(f"{panel.per_photo} raters per photo need a pool of at least as many, not {panel.pool}")
    rng = np.random.default_rng([panel.seed, 2])
    bias = panel.biases()
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    votes = []
    for i, (path, mos100) in enumerate(photos):
        truth = acr_from_mos100(mos100)
        raters = rng.choice(panel.pool, panel.per_photo, replace=False)
        noise = rng.normal(0.0, panel.noise_sd, panel.per_photo)
        for r, e in zip(raters, noise):
            value = int(np.clip(np.rint(truth + bias[r] + e), 1, 5))
            votes.append(Vote(f"simulated-{r:02d}", path, value, start + timedelta(seconds=7 * i, milliseconds=int(r))))
    return votes


def write_votes(votes: list[Vote], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows((v.rater, v.photo, v.vote, v.time.isoformat()) for v in votes)
