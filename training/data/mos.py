"""MOS datasets from a pyiqa-style CSV: ``image,mos,std`` (+ optional ``split`` column).

Photos are never resized for training (resizing changes the quality raters judged): training
takes random crops at native resolution with flips; evaluation sees the full photo.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from app.core.imageio.decode import load_rgb


@dataclass(frozen=True)
class MOSItem:
    image: str  # path relative to the root
    mos: float  # 0-100, higher is better
    std: float | None = None
    split: str | None = None
    dataset: str = ""  # which rated set it comes from: scores are comparable only within one
    subset: str = ""  # a part of that set to stratify and report by (BIQ2021's ss01/ss02/ss03)


def read_mos_csv(path: str | Path) -> list[MOSItem]:
    items = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"image", "mos"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            std = row.get("std")
            items.append(
                MOSItem(row["image"], float(row["mos"]), float(std) if std not in (None, "") else None, row.get("split") or None)
            )
    if not items:
        raise ValueError(f"{path}: no rows")
    return items


def write_mos_csv(items: list[MOSItem], path: str | Path, with_split: bool = False) -> None:
    """``image,mos,std`` (and ``split`` when asked: the stages then keep that split)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "mos", "std"] + (["split"] if with_split else []))
        for it in items:
            writer.writerow([it.image, it.mos, "" if it.std is None else it.std] + ([it.split] if with_split else []))


def split_items(items: list[MOSItem], val_fraction: float, seed: int) -> tuple[list[MOSItem], list[MOSItem]]:
    """(train, val): the CSV's split column where present, else a seeded random split."""
    if any(it.split for it in items):
        train = [it for it in items if it.split in (None, "train")]
        val = [it for it in items if it.split in ("val", "valid", "validation", "test")]
        return train, val
    order = np.random.default_rng(seed).permutation(len(items))
    n_val = int(round(len(items) * val_fraction))
    val_idx = set(order[:n_val].tolist())
    train = [it for i, it in enumerate(items) if i not in val_idx]
    val = [it for i, it in enumerate(items) if i in val_idx]
    return train, val


def normalise(rgb: np.ndarray, mean, std) -> torch.Tensor:
    x = torch.from_numpy(np.array(rgb, copy=True)).permute(2, 0, 1).float().div_(255.0)
    return (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)


def random_crop(rgb: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A size x size crop at native resolution; smaller photos are edge-padded, not scaled."""
    h, w = rgb.shape[:2]
    if h < size or w < size:
        rgb = np.pad(rgb, ((0, max(0, size - h)), (0, max(0, size - w)), (0, 0)), mode="edge")
        h, w = rgb.shape[:2]
    top = int(rng.integers(0, h - size + 1))
    left = int(rng.integers(0, w - size + 1))
    return rgb[top : top + size, left : left + size]


class MOSDataset(Dataset):
    """Rated photos, decoded once and kept in memory (LIVEC's 930 photos take ~0.7 GB).

    ``crop`` set: training samples (random crop + horizontal flip). ``crop`` None: full photos.
    """

    def __init__(self, items: list[MOSItem], root: str | Path, mean, std, crop: int | None = None, seed: int = 0):
        self.items = items
        self.root = Path(root)
        self.mean, self.std, self.crop = tuple(mean), tuple(std), crop
        self.rng = np.random.default_rng(seed)
        self.images = [load_rgb(self.root / it.image) for it in items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        rgb = self.images[i]
        if self.crop:
            rgb = random_crop(rgb, self.crop, self.rng)
            if self.rng.random() < 0.5:
                rgb = rgb[:, ::-1]
        return {"image": normalise(rgb, self.mean, self.std), "mos": torch.tensor(self.items[i].mos / 100.0), "index": i}
