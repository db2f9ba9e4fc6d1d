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
from .heavy_damage import saved_as_jpeg
from .synthetic import DISTORTIONS, LEVELS, distort, distort_region

JPEG_BLOCK = 8  # a JPEG's block size: the crop's phase on the block grid is drawn from 0..8


class RankingGroups(Dataset):
    """``saved_quality`` (lowest, highest): every crop of a group, the pristine one too, is saved
    as a JPEG at one quality drawn from that range, as a camera hands a photo over. The crop is cut
    from the saved copy at a random phase of the 8x8 block grid, as a detail tile of a photo is."""

    def __init__(self, folders, mean, std, crop: int, length: int, seed: int = 0, kinds: list[str] | None = None,
                 saved_quality: tuple[int, int] | None = None):
        self.mean, self.std, self.crop, self.length = tuple(mean), tuple(std), crop, length
        self.saved_quality = tuple(saved_quality) if saved_quality else None
        self.rng = np.random.default_rng(seed)
        self.kinds = kinds or sorted(DISTORTIONS)
        self.images = [load_rgb(p) for p in list_images(list(folders))]
        if not self.images:
            raise ValueError("no pristine photos found")

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        margin = JPEG_BLOCK if self.saved_quality else 0
        base = random_crop(self.images[int(self.rng.integers(len(self.images)))], self.crop + margin, self.rng)
        kind = self.kinds[int(self.rng.integers(len(self.kinds)))]
        ladder = [base] + [distort(base, kind, lv, self.rng) for lv in LEVELS]
        region_level = int(self.rng.integers(3, 6))
        region_img, mask = distort_region(base, kind, region_level, self.rng)
        copies = ladder + [region_img]
        if self.saved_quality:
            quality = int(self.rng.integers(self.saved_quality[0], self.saved_quality[1] + 1))
            top, left = (int(v) for v in self.rng.integers(0, margin + 1, size=2))
            copies = [saved_as_jpeg(im, quality)[top:top + self.crop, left:left + self.crop] for im in copies]
            mask = mask[top:top + self.crop, left:left + self.crop]
        images = [normalise(np.ascontiguousarray(im), self.mean, self.std) for im in copies]
        return {"images": torch.stack(images), "mask": torch.from_numpy(mask), "kind": self.kinds.index(kind),
                "region_level": region_level}
