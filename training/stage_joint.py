"""Stage ``joint``: learn quality from several human-rated datasets at once.

Each dataset was rated on its own scale (LIVEC: a crowd's 0-100 slider; BIQ2021: laboratory ACR
1-5, min-max scaled), so no loss ever compares photos of two datasets: every batch comes from one
dataset (``SameDatasetBatches``); every dataset adds the scale-free terms (batch PLCC, pairwise
ranking), and only the anchor dataset's MOS is pulled on by L1, which puts the score on that
dataset's scale (the card declares it). Validation reports every dataset (and BIQ2021's subsets)
on its own held-out photos; ``best.pt`` has the best mean SRCC over the datasets.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .data.mos import MOSDataset
from .data.rated_sets import RatedSet, SameDatasetBatches, read_rated_set, stratified_split
from .loop import fit, predict
from .losses import rated_batch_losses
from .metrics import iqa_metrics
from .stage_mos import build_model, store_best_metrics, synthetic_aux

log = logging.getLogger(__name__)


class RatedPhotos(MOSDataset):
    """MOSDataset over several datasets; each item also says whether its dataset is the anchor."""

    def __init__(self, items, anchors: set[str], mean, std, crop=None, seed=0):
        # Item paths are absolute (each dataset has its own root), so the root joins to nothing.
        super().__init__(items, Path("."), mean, std, crop=crop, seed=seed)
        self.anchor = [it.dataset in anchors for it in items]

    def __getitem__(self, i: int) -> dict:
        return super().__getitem__(i) | {"anchor": torch.tensor(self.anchor[i])}


def val_fraction_of(cfg: dict, dataset: str) -> float:
    return cfg.get("val_fractions", {}).get(dataset, cfg.get("val_fraction", 0.1))


def load_splits(sets: list[RatedSet], cfg: dict) -> tuple[list, list]:
    """Every dataset's own (train, val) split, by its fraction in ``val_fractions`` (else
    ``val_fraction``): LIVEC keeps the 15 % every earlier stage held out, so models stay comparable."""
    train, val = [], []
    for rated in sets:
        items = [replace(it, image=str(rated.root / it.image)) for it in read_rated_set(rated)]
        fraction = val_fraction_of(cfg, rated.name)
        t, v = stratified_split(items, fraction, cfg.get("split_seed", 0))
        log.info("%s: %d train / %d val photos from %s%s", rated.name, len(t), len(v), rated.csv,
                 " (anchor: the score's scale)" if rated.anchor else "")
        train += t
        val += v
    return train, val


def validate_per_dataset(model, val_sets: dict[str, MOSDataset]) -> dict[str, float]:
    """SRCC/PLCC/RMSE per dataset and per subset; ``srcc`` is the mean over datasets."""
    figures: dict[str, float] = {}
    for name, dataset in val_sets.items():
        pred = predict(model, dataset)
        mos = np.array([it.mos for it in dataset.items])
        for k, v in iqa_metrics(pred, mos).items():
            figures[f"{name}_{k}"] = v
        for subset in sorted({it.subset for it in dataset.items if it.subset}):
            keep = np.array([it.subset == subset for it in dataset.items])
            figures[f"{name}_{subset}_srcc"] = iqa_metrics(pred[keep], mos[keep])["srcc"]
    figures["srcc"] = float(np.mean([figures[f"{n}_srcc"] for n in val_sets]))
    figures["plcc"] = float(np.mean([figures[f"{n}_plcc"] for n in val_sets]))
    return figures


def run_joint_stage(cfg: dict, sets: list[RatedSet], out_dir: Path, pristine: list[Path] = ()) -> list[dict]:
    if sum(s.anchor for s in sets) != 1:
        raise ValueError("name exactly one dataset as the anchor (--anchor NAME): its MOS is the score's scale")
    if len({s.name for s in sets}) != len(sets):
        raise ValueError("every dataset needs its own name")
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    model = build_model(cfg)
    mean, std = model.config.mean, model.config.std
    train_items, val_items = load_splits(sets, cfg)
    anchors = {s.name for s in sets if s.anchor}
    train_set = RatedPhotos(train_items, anchors, mean, std, crop=cfg["crop"], seed=cfg.get("seed", 0))
    val_sets = {s.name: MOSDataset([it for it in val_items if it.dataset == s.name], Path("."), mean, std) for s in sets}
    val_sets = {name: d for name, d in val_sets.items() if len(d) >= 3}
    weights = cfg.get("loss", {"l1": 1.0, "plcc": 0.3, "rank": 0.3, "diversity": 0.01})
    aux = synthetic_aux(cfg, pristine, model)

    def loss_fn(m, batch):
        # A batch is one dataset's (SameDatasetBatches), so its first item speaks for all.
        terms = rated_batch_losses(m(batch["image"]), batch["mos"], bool(batch["anchor"][0]), weights)
        return aux.add_to(m, terms) if aux else terms

    described = "; ".join(f"{s.name}{' (anchor)' if s.anchor else ''}: {s.csv}" for s in sets)
    card_info = {
        "training": {
            "data": f"{described} ({len(train_items)} train / {len(val_items)} val photos, split seed {cfg.get('split_seed', 0)}, "
                    "stratified by subset)",
            "recipe": f"stage joint (MOS of several datasets, compared within each): {json.dumps(cfg, sort_keys=True)}"
            + (f"; synthetic terms from {[str(p) for p in pristine]}" if aux else ""),
            "score_scale": f"the MOS scale of {next(iter(anchors))}, on 0-100",
        }
    }
    groups = [it.dataset for it in train_items]
    history = fit(model, cfg, train_set, None, out_dir, loss_fn, card_info,
                  validate_fn=(lambda m: validate_per_dataset(m, val_sets)) if val_sets else None,
                  batch_sampler=lambda gen: SameDatasetBatches(groups, cfg["batch_size"], gen))
    store_best_metrics(out_dir, cfg, split="; ".join(
        f"{val_fraction_of(cfg, s.name):.0%} of {s.csv.name} (by subset), seed {cfg.get('split_seed', 0)}" for s in sets))
    return history
