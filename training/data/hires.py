"""Clean high-resolution photos for scale consistency: native crops with whole-photo targets.

A person judging a clean 12 MP photo on a screen sees what its downscale to the viewing size
shows, so the model's reading of *any* native-resolution part of it should agree with its
reading of the whole photo at the viewing size. Each sample is a crop of the photo at a random
scale between the viewing size and native (never upscaled), and its target is the frozen
reference model's score of the whole photo at the viewing size.

The photos are split (seeded, by name) into a training half and a held-out half, so the scale
benchmark can report on photos the model never saw.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from app.core.imageio.decode import load_rgb
from app.core.scoring.reading import overview

from .mixed import list_images
from .mos import normalise, random_crop


def split_hires(sources: list[Path], seed: int = 0, held_out: float = 0.5) -> tuple[list[Path], list[Path]]:
    """(train, held out) photos of the given folders: a seeded permutation of the sorted names."""
    files = sorted(list_images(list(sources)), key=lambda p: p.name)
    order = np.random.default_rng(seed).permutation(len(files))
    n_out = int(round(len(files) * held_out))
    out = {int(i) for i in order[:n_out]}
    return [f for i, f in enumerate(files) if i not in out], [f for i, f in enumerate(files) if i in out]


@torch.no_grad()
def viewing_scale_targets(model, photos: list[np.ndarray], side: int, mean, std) -> list[float]:
    """The reference model's score (0-1) of each whole photo at the viewing size."""
    model.eval()
    device = next(model.parameters()).device
    return [float(model(normalise(overview(p, side), mean, std)[None].to(device))["score"][0]) / 100 for p in photos]


class ScaleConsistencyCrops(Dataset):
    def __init__(self, photos: list[np.ndarray], targets: list[float], side: int, mean, std, crop: int,
                 length: int, seed: int = 0):
        self.photos, self.targets, self.side = photos, targets, side
        self.mean, self.std, self.crop, self.length = tuple(mean), tuple(std), crop, length
        self.rng = np.random.default_rng(seed)

    @classmethod
    def from_files(cls, files: list[Path], reference, side: int, crop: int, length: int, seed: int = 0):
        photos = [load_rgb(f) for f in files]
        mean, std = reference.config.mean, reference.config.std
        return cls(photos, viewing_scale_targets(reference, photos, side, mean, std), side, mean, std, crop, length, seed)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict:
        k = int(self.rng.integers(len(self.photos)))
        photo = self.photos[k]
        long_side = max(photo.shape[:2])
        # Log-uniform between the viewing size and native: every scale a user may hand in.
        low = min(1.0, max(self.side, self.crop) / long_side)
        f = float(np.exp(self.rng.uniform(np.log(low), 0.0)))
        if f < 0.999:
            size = (max(self.crop, round(photo.shape[1] * f)), max(self.crop, round(photo.shape[0] * f)))
            photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA)
        rgb = random_crop(photo, self.crop, self.rng)
        if self.rng.random() < 0.5:
            rgb = rgb[:, ::-1]
        return {"image": normalise(rgb, self.mean, self.std), "target": torch.tensor(self.targets[k], dtype=torch.float32)}
