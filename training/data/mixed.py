"""Crops from photos without MOS: unlabeled folders and synthetic distortions of pristine photos.

Distillation lets the teacher label these, so the student learns from far more images than
people rated. Items look like MOSDataset's, with ``mos`` = NaN (no human label) and a
``mask`` of the locally distorted region (all zeros when the damage is global or absent).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from app.core.imageio.decode import ImageLoadError, load_rgb
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


class DecodedCache:
    """Decoded photos kept by recency up to ``max_bytes`` (a photo larger than the whole budget
    is decoded each time and never kept). Each data-loading process holds its own."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.peak = 0
        self.decodes = 0
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()

    def get(self, key: int, load) -> np.ndarray:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        image = load()
        self.decodes += 1
        if image.nbytes <= self.max_bytes:
            while self._items and self.bytes + image.nbytes > self.max_bytes:
                self.bytes -= self._items.popitem(last=False)[1].nbytes
            self._items[key] = image
            self.bytes += image.nbytes
            self.peak = max(self.peak, self.bytes)
        return image


class UnlabeledCrops(Dataset):
    """Random crops of every photo under the given folders, read from disk when asked for, at
    most ``cache_mb`` of decoded photos kept (1,000 photos of 12 MP would be 36 GB in memory;
    streamed they cost the cache). The crop drawn does not depend on the cache, so a resumed run
    takes the same crops. A photo that cannot be read is reported once and its place taken by
    the next readable one."""

    def __init__(self, folders: list[Path], mean, std, crop: int, seed: int = 0, cache_mb: int = 1024):
        self.mean, self.std, self.crop = tuple(mean), tuple(std), crop
        self.rng = np.random.default_rng(seed)
        self.paths = list_images(folders)
        self.bad: set[int] = set()
        self.cache = DecodedCache(int(cache_mb) << 20)

    def __len__(self) -> int:
        return len(self.paths)

    def _image(self, i: int) -> np.ndarray:
        for step in range(len(self.paths)):
            j = (i + step) % len(self.paths)
            if j in self.bad:
                continue
            try:
                return self.cache.get(j, lambda: load_rgb(self.paths[j]))
            except ImageLoadError as exc:
                self.bad.add(j)
                print(f"warning: skipping {exc}")
        raise ValueError("none of the unlabeled photos can be read")

    def __getitem__(self, i: int) -> dict:
        rgb = random_crop(self._image(i), self.crop, self.rng)
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
