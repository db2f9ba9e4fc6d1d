"""A frozen trunk's outputs cached on disk, so a network's top can learn from 10,000 photos on a CPU.

On 2 CPU cores one epoch of the whole student over BIQ2021's 9,000 training photos costs about
30 minutes at 288-px crops, and most of that is the early high-resolution blocks. The trunk (stem
and blocks up to the second-to-last stage output) is frozen and run once per photo, at the size
the overview reads it (long side 512, as the raters saw it); its stage outputs are stored as
float16 arrays. The top (the last blocks, LDA, MAL, fusion: ~2 M weights) then trains over whole
photos in minutes per epoch (``training.stage_top``).

A cache is a folder: ``stage{k}.npy`` ([N, C, H, W] float16, one row per photo, every photo
edge-padded to the same square; the border cells of a smaller photo differ from its
own padding by a hair) and ``index.json`` (each row's valid height and width and what
the row is: a rated photo with its MOS, or a synthetic copy with its kind and level).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data.mos import normalise

log = logging.getLogger(__name__)


def split_block(backbone: nn.Module) -> int:
    """The block whose output is the backbone's second-to-last stage: the trunk ends there."""
    modules = [d["module"] for d in backbone.feature_info.get_dicts()]
    if len(modules) < 2 or not modules[-2].startswith("blocks."):
        raise ValueError(f"cannot split a backbone whose stages are {modules}")
    return int(modules[-2].split(".")[1])


def trunk_modules(backbone: nn.Module) -> list[nn.Module]:
    return [backbone.conv_stem, backbone.bn1, *backbone.blocks[: split_block(backbone) + 1]]


def freeze_trunk(model) -> None:
    """Freeze every trunk weight (and its norms' statistics: the cache was made with them)."""
    for module in trunk_modules(model.backbone):
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)


def trunk_stages(backbone: nn.Module, image: torch.Tensor) -> list[torch.Tensor]:
    """The stage outputs the trunk produces (every stage but the last)."""
    last = split_block(backbone)
    wanted = {int(d["module"].split(".")[1]) for d in backbone.feature_info.get_dicts()[:-1]}
    x = backbone.bn1(backbone.conv_stem(image))
    stages = []
    for i, block in enumerate(backbone.blocks[: last + 1]):
        x = block(x)
        if i in wanted:
            stages.append(x)
    return stages


def top_stages(backbone: nn.Module, cached: list[torch.Tensor]) -> list[torch.Tensor]:
    """All stage outputs, from the trunk's: the remaining blocks run on the last cached one."""
    x = cached[-1]
    for block in backbone.blocks[split_block(backbone) + 1:]:
        x = block(x)
    return [*cached, x]


def pad_square(image: torch.Tensor, side: int) -> torch.Tensor:
    """Edge-pad [1, 3, h, w] to side x side (the model edge-pads too; its grid crops the padding off)."""
    h, w = image.shape[-2:]
    return F.pad(image, (0, side - w, 0, side - h), mode="replicate")


def torch_trunk(model) -> Callable[[torch.Tensor], list[np.ndarray]]:
    """The stage outputs of ``model``'s frozen trunk, as the cache stores them."""
    model.eval()

    @torch.no_grad()
    def features(image: torch.Tensor) -> list[np.ndarray]:
        return [t[0].numpy() for t in trunk_stages(model.backbone, image)]

    return features


def build_cache(features: Callable[[torch.Tensor], list[np.ndarray]], mean, std,
                rows: list[tuple[dict, Callable[[], np.ndarray]]], out: Path, side: int = 512) -> int:
    """Run ``features`` (a normalised [1, 3, side, side] image -> arrays to keep) over every row's
    photo and write the cache to ``out``.

    Each row is (description, load): ``load()`` returns the RGB photo as the reader sees it (its
    long side at most ``side``). A photo that cannot be read is skipped with a message; it never
    stops the cache.
    """
    out.mkdir(parents=True, exist_ok=True)
    probe = features(torch.zeros(1, 3, side, side))
    arrays = [np.lib.format.open_memmap(out / f"stage{k}.npy.part", "w+", np.float16, (len(rows), *a.shape))
              for k, a in enumerate(probe)]
    index = []
    for description, load in rows:
        try:
            rgb = load()
        except Exception as exc:  # one unreadable photo never stops a cache of thousands
            log.warning("skipped %s: %s", description, exc)
            continue
        h, w = rgb.shape[:2]
        if max(h, w) > side:
            raise ValueError(f"{description}: {w}x{h} is larger than the cache's {side}-px square")
        for array, stage in zip(arrays, features(pad_square(normalise(rgb, mean, std)[None], side))):
            array[len(index)] = stage.astype(np.float16)
        index.append(description | {"h": h, "w": w})
        if len(index) % 500 == 0:
            log.info("cached %d / %d photos", len(index), len(rows))
    for k, array in enumerate(arrays):
        array.flush()
        del array
        kept = np.load(out / f"stage{k}.npy.part", mmap_mode="r")[: len(index)]
        np.save(out / f"stage{k}.npy", kept)
        (out / f"stage{k}.npy.part").unlink()
    (out / "index.json").write_text(json.dumps({"side": side, "rows": index}))
    return len(index)


class TrunkCache:
    """A cache folder read back: ``rows`` (descriptions) and ``stages(ids)`` as float32 tensors."""

    def __init__(self, folder: Path, in_memory: bool = True):
        meta = json.loads((folder / "index.json").read_text())
        self.side, self.rows = meta["side"], meta["rows"]
        self.arrays = [np.load(path, mmap_mode=None if in_memory else "r")
                       for path in sorted(folder.glob("stage*.npy"))]

    def __len__(self) -> int:
        return len(self.rows)

    def stages(self, ids) -> list[torch.Tensor]:
        ids = np.asarray(ids)
        return [torch.from_numpy(a[ids].astype(np.float32)) for a in self.arrays]
