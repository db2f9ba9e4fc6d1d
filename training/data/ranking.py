"""Groups for synthetic pre-training: one pristine crop at every level of one distortion, plus
the same crop damaged inside a region (with its mask).

A group gives the ranking loss its pairs (pristine > level 1 > ... > level 5, all of the same
content, so only the distortion differs) and the map loss its target (the region's mask).
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from app.core.imageio.decode import load_rgb

from .mixed import list_images
from .mos import normalise, random_crop
from .synthetic import DISTORTIONS, LEVELS, distort, distort_region


class RankingGroups(Dataset):
    def __init__(self, folders, mean, std, crop: int, length: int, seed: int = 0, kinds: list[str] | None = None):
        self.mean, self.std, self.crop, self.length = tuple(mean), tuple(std), crop, length
        self.rng = np.random.default_rng(seed)
        self.kinds = kinds or sorted(DISTORTIONS)
        self.images = [load_rgb(p) for p in list_images(list(folders))]
        if not self.images:
            raise ValueError("no pristine photos found")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        base = random_crop(self.images[int(self.rng.integers(len(self.images)))], self.crop, self.rng)
        kind = self.kinds[int(self.rng.integers(len(self.kinds)))]
        ladder = [base] + [distort(base, kind, lv, self.rng) for lv in LEVELS]
        region_level = int(self.rng.integers(3, 6))
        region_img, mask = distort_region(base, kind, region_level, self.rng)
        images = [normalise(im, self.mean, self.std) for im in ladder + [region_img]]
        return {"images": torch.stack(images), "mask": torch.from_numpy(mask), "kind": self.kinds.index(kind),
                "region_level": region_level}
