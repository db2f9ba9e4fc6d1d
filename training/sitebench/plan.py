"""The benchmark's photo sets: the site split by the fine-tune's own seeded rule, the test photos
fixed once for the whole site, and nested sets of n rated photos for training + validation.

The station keys a photo by its content hash (sha256 of the file, as scoring records it), and
``site_split.assign`` puts each key in train / validation / test from that key and the seed alone.
So splitting the whole site here gives the very test photos the fine-tune will find among the
rated ones at every n; the n non-test photos are the first n of one seeded order, so the photos
rated at 150 are among those rated at 300, and so on (a learning curve, not new draws).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..site_split import SplitRule, assign
from .sites import SitePhoto


def content_key(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class SitePlan:
    test: list[SitePhoto]  # rated at every n, never trained on
    order: list[SitePhoto]  # the other photos, in the order they get rated
    split: dict[str, str]  # path -> train / val / test, as the fine-tune will split them

    def rated(self, n: int) -> list[SitePhoto]:
        """The photos a station has rated at size n: the test photos and the first n others."""
        return self.test + self.order[:n]

    def available(self) -> int:
        return len(self.order)


def plan_site(photos: list[SitePhoto], rule: SplitRule, seed: int = 0) -> SitePlan:
    keys = {p.path: content_key(p.path) for p in photos}
    by_key = assign(list(keys.values()), rule)
    split = {path: by_key[key] for path, key in keys.items()}
    test = [p for p in photos if split[p.path] == "test"]
    others = [p for p in photos if split[p.path] != "test"]
    order = [others[i] for i in np.random.default_rng([seed, 3]).permutation(len(others))]
    return SitePlan(test, order, split)
