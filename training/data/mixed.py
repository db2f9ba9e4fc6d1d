"""Crops from photos without MOS: unlabeled folders and synthetic distortions of pristine photos.

Distillation lets the teacher label these, so the student learns from far more images than
people rated. Items look like MOSDataset's, with ``mos`` = NaN (no human label) and a
``mask`` of the locally distorted region (all zeros when the damage is global or absent).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from app.core.imageio import ImageLoadError, load_rgb
from app.sources.folder import PHOTO_SUFFIXES

from .mos import normalise, random_crop
from .synthetic import DISTORTIONS, LEVELS, distort, distort_region


def list_images(sources: list[Path]) -> list[Path]:
    """Every photo under the given folders; a source that is a file is taken as it is."""
    files = []
    for source in map(Path, sources):
        if source.is_file():
            files.append(source)
        else:
            files += sorted(p for p in source.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    return files


class UnlabeledCrops(Dataset):
    """Random crops of every readable photo under the given folders (unreadable ones are skipped
    with a warning, at load time)."""

    def __init__(self, folders: list[Path], mean, std, crop: int, seed: int = 0):
        self.mean, self.std, self.crop = tuple(mean), tuple(std), crop
        self.rng = np.random.default_rng(seed)
        self.images = []
        for path in list_images(folders):
            try:
                self.images.append(load_rgb(path))
            except ImageLoadError as exc:
                print(f"warning: skipping {exc}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict:
        rgb = random_crop(self.images[i], self.crop, self.rng)
        return {"image": normalise(rgb, self.mean, self.std), "mos": torch.tensor(math.nan), "index": i,
                "mask": torch.zeros(rgb.shape[:2])}


class SyntheticCrops(Dataset):
    """``length`` crops of pristine photos, each distorted by a random type and level, globally or
    inside a region (``region_prob``). Fresh distortions every epoch; seeded, so reproducible."""

    def __init__(self, folders: list[Path], mean, std, crop: int, length: int, region_prob: float = 0.5, seed: int = 0):
        self.mean, self.std, self.crop = tuple(mean), tuple(std), crop
        self.length, self.region_prob = length, region_prob
        self.rng = np.random.default_rng(seed)
        self.kinds = sorted(DISTORTIONS)
        self.images = [load_rgb(p) for p in list_images(folders)]
        if not self.images:
            raise ValueError(f"no pristine photos under {', '.join(map(str, folders))}")

    def __len__(self) -> int:
        return self.length

    def sample(self, image: np.ndarray, kind: str, level: int, region: bool) -> tuple[np.ndarray, np.ndarray]:
        if region:
            return distort_region(image, kind, level, self.rng)
        return distort(image, kind, level, self.rng), np.zeros(image.shape[:2], np.float32)

    def __getitem__(self, i: int) -> dict:
        base = random_crop(self.images[int(self.rng.integers(len(self.images)))], self.crop, self.rng)
        kind = self.kinds[int(self.rng.integers(len(self.kinds)))]
        level = int(self.rng.choice(LEVELS))
        img, mask = self.sample(base, kind, level, self.rng.random() < self.region_prob)
        return {"image": normalise(img, self.mean, self.std), "mos": torch.tensor(math.nan), "index": i,
                "mask": torch.from_numpy(mask)}
