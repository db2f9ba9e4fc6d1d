"""Several human-rated datasets at once, each kept on its own scale.

Two layouts are read:
- pyiqa's ``image,mos[,std][,split]`` (LIVEC here: a crowd's 0-100 slider);
- BIQ2021's ``Image Name,MOS`` (laboratory ACR 1-5 by 30 observers, min-max scaled to 0-1 by its
  authors; CRLF line ends, trailing empty columns, a row or two whose case differs from the file
  on disk). Its MOS is put on 0-100 and its subset (``ss01``/``ss02``/``ss03``) kept for
  stratified splits and per-subset figures.

A raw MOS from one dataset says nothing about a MOS from another (different raters, scales and
rating methods), so every item carries its ``dataset`` and the stages compare photos only within
one (``SameDatasetBatches``; scale-free loss terms for every dataset but the anchor one).

BIQ2021's official test split is reserved for an independent evaluation: no training command
reads it (``refuse_reserved``), and the validation split is carved out of the training split.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .mos import MOSItem, read_mos_csv, split_items

# The file name BIQ2021 ships its reserved test ratings under; training refuses it.
RESERVED_NAMES = ("test (images and mos).csv",)
_SUBSET = re.compile(r"^(ss\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RatedSet:
    """One dataset named on the command line: its ratings file, its image folder, and whether its
    MOS defines the shipped score's scale (``anchor``) or only ranks photos within it."""

    name: str
    csv: Path
    root: Path
    anchor: bool = False


def refuse_reserved(path: Path) -> None:
    if Path(path).name.strip().lower() in RESERVED_NAMES:
        raise ValueError(f"{path} is BIQ2021's official test split, reserved for independent evaluation: "
                         "it is never trained on, validated on or used to choose anything")


def _folder_index(folder: Path) -> dict[str, str]:
    """Lower-cased file name -> the name on disk (BIQ2021's CSV names one .JPG as .jpg)."""
    return {p.name.lower(): p.name for p in folder.iterdir()} if folder.is_dir() else {}


def read_biq2021_csv(path: Path, root: Path, images: str = "Images") -> list[MOSItem]:
    """BIQ2021's ``Image Name,MOS`` file; image paths become ``Images/<name as on disk>``."""
    refuse_reserved(path)
    on_disk = _folder_index(Path(root) / images)
    items = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        header = [h.strip().lower() for h in next(rows, [])]
        if header[:2] != ["image name", "mos"]:
            raise ValueError(f"{path}: expected the columns 'Image Name,MOS', found {','.join(header) or 'nothing'}")
        for line, row in enumerate(rows, start=2):
            if not row or not row[0].strip():
                continue
            name = row[0].strip()
            try:
                mos = float(row[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}, line {line}: no numeric MOS for {name!r}") from None
            if not 0.0 <= mos <= 1.0:
                raise ValueError(f"{path}, line {line}: MOS {mos} outside BIQ2021's 0-1 range")
            match = _SUBSET.match(name)
            items.append(MOSItem(f"{images}/{on_disk.get(name.lower(), name)}", 100.0 * mos, dataset="biq2021",
                                 subset=match.group(1).lower() if match else ""))
    if not items:
        raise ValueError(f"{path}: no rows")
    return items


def read_rated_set(rated: RatedSet) -> list[MOSItem]:
    """The items of one dataset, whichever layout its file has, tagged with its name."""
    refuse_reserved(rated.csv)
    with open(rated.csv, newline="", encoding="utf-8-sig") as f:
        first = f.readline().strip().lower()
    if first.startswith("image name"):
        items = read_biq2021_csv(rated.csv, rated.root)
    else:
        items = read_mos_csv(rated.csv)
    return [replace(it, dataset=rated.name) for it in items]


def stratified_split(items: list[MOSItem], val_fraction: float, seed: int) -> tuple[list[MOSItem], list[MOSItem]]:
    """(train, val) with the same share of every subset in validation; a seeded permutation per
    subset, so the split depends only on the file, the fraction and the seed. A file with its
    own ``split`` column keeps it."""
    if any(it.split for it in items) or not any(it.subset for it in items):
        return split_items(items, val_fraction, seed)
    val_ids: set[int] = set()
    for k, subset in enumerate(sorted({it.subset for it in items})):
        members = [i for i, it in enumerate(items) if it.subset == subset]
        order = np.random.default_rng([seed, k]).permutation(len(members))
        val_ids.update(members[j] for j in order[: int(round(len(members) * val_fraction))])
    return ([it for i, it in enumerate(items) if i not in val_ids],
            [it for i, it in enumerate(items) if i in val_ids])


def parse_rated_set(values: list[str], anchor_name: str | None) -> RatedSet:
    """``NAME CSV ROOT`` from the command line."""
    name, csv_path, root = values
    return RatedSet(name, Path(csv_path), Path(root), anchor=name == anchor_name)


class SameDatasetBatches:
    """A batch sampler whose every batch comes from one dataset (``groups``: a dataset label per
    item), so batch PLCC and pairwise ranking only ever compare photos rated on one scale. Each
    dataset's items are shuffled and cut into full batches; the batches of all datasets are then
    shuffled together, so every dataset is seen in proportion to its size. Draws from the
    loader's ``generator``, which the training loop checkpoints, so a resumed run continues it."""

    def __init__(self, groups: list[str], batch_size: int, generator):
        self.batch_size = batch_size
        self.generator = generator
        self.members: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            self.members.setdefault(g, []).append(i)

    def __len__(self) -> int:
        return sum(len(m) // self.batch_size for m in self.members.values())

    def __iter__(self):
        import torch

        batches = []
        for members in self.members.values():
            order = torch.randperm(len(members), generator=self.generator).tolist()
            for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
                batches.append([members[j] for j in order[start : start + self.batch_size]])
        for k in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[k]
