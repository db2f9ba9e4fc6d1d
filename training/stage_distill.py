"""Stage ``distill``: a mobile student learns from a frozen teacher.

Fixes what kept the authors' distillation from running: the teacher is loaded from its own
checkpoint and frozen (no shared heads), widths are bridged by a trained 1x1 adapter (their LDA
widths differ), both models see the same crop on the same grid (the grid follows the input), and
every loss term is defined for every batch, labeled or not.

Data: the MOS training split (ground truth + teacher), optionally unlabeled folders and synthetic
distortions of pristine photos (teacher only), so the student sees far more than was rated.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import ConcatDataset

from models import load_checkpoint

from .data.mixed import SyntheticCrops, UnlabeledCrops
from .data.mos import MOSDataset, read_mos_csv, split_items
from .device import pick_device
from .loop import fit
from .losses import distill_losses
from .stage_mos import build_model, store_best_metrics, synthetic_aux

log = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {
    "feature": 1.0, "attention": 0.1, "quality": 1.0, "opinion": 1.0, "score": 2.0,
    "diversity": 0.01, "l1": 1.0, "plcc": 0.3,
}


def renormaliser(student_cfg, teacher_cfg):
    """Map a batch normalised for the student to the teacher's normalisation (identity if equal)."""
    if tuple(student_cfg.mean) == tuple(teacher_cfg.mean) and tuple(student_cfg.std) == tuple(teacher_cfg.std):
        return lambda x: x

    def renormalise(x: torch.Tensor) -> torch.Tensor:
        s_mean, s_std, t_mean, t_std = (
            torch.tensor(v, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
            for v in (student_cfg.mean, student_cfg.std, teacher_cfg.mean, teacher_cfg.std)
        )
        return (x * s_std + s_mean - t_mean) / t_std

    return renormalise


def run_distill(
    cfg: dict, csv_path: Path, root: Path, teacher_ckpt: Path, out_dir: Path,
    unlabeled: list[Path] = (), pristine: list[Path] = (),
) -> list[dict]:
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    teacher, _ = load_checkpoint(teacher_ckpt)
    teacher.eval().requires_grad_(False).to(pick_device(cfg.get("device")))
    student = build_model(cfg)
    if student.config.views != teacher.config.views:
        raise ValueError(f"student has {student.config.views} views, teacher {teacher.config.views}: they must match")
    adapter = nn.Conv2d(student.config.width, teacher.config.width, 1)
    to_teacher = renormaliser(student.config, teacher.config)

    seed, crop = cfg.get("seed", 0), cfg["crop"]
    mean, std = student.config.mean, student.config.std
    train_items, val_items = split_items(read_mos_csv(csv_path), cfg.get("val_fraction", 0.15), cfg.get("split_seed", 0))
    parts = [MOSDataset(train_items, root, mean, std, crop=crop, seed=seed)]
    if unlabeled:
        parts.append(UnlabeledCrops(list(unlabeled), mean, std, crop, seed=seed + 1))
    if pristine:
        n_synth = int(cfg.get("synthetic_per_epoch", len(train_items)))
        parts.append(SyntheticCrops(list(pristine), mean, std, crop, n_synth, seed=seed + 2))
    train_set = ConcatDataset(parts)
    for part in parts:  # the loop checkpoints one generator; give every part the same one
        part.rng = parts[0].rng
    train_set.rng = parts[0].rng
    val_set = MOSDataset(val_items, root, mean, std) if val_items else None
    log.info("distill: %s", ", ".join(f"{type(p).__name__} {len(p)}" for p in parts))
    weights = DEFAULT_WEIGHTS | cfg.get("loss", {})
    aux = synthetic_aux(cfg, pristine, student)

    def loss_fn(model, batch):
        x = batch["image"]
        with torch.no_grad():
            t_out = teacher(to_teacher(x))
        terms = distill_losses(model(x), t_out, adapter, batch["mos"].float(), weights)
        return aux.add_to(model, terms) if aux else terms

    teacher_metrics = torch.load(teacher_ckpt, map_location="cpu", weights_only=True).get("card_info", {}).get("metrics", {})
    card_info = {
        "training": {
            "data": f"{csv_path} ({len(train_items)} train / {len(val_items)} val, split seed {cfg.get('split_seed', 0)}); "
            f"unlabeled {[str(p) for p in unlabeled]}; pristine {[str(p) for p in pristine]}",
            "recipe": f"stage distill from {teacher_ckpt}: {json.dumps(cfg, sort_keys=True)}",
            "teacher": {"backbone": teacher.config.backbone, "metrics": teacher_metrics},
        }
    }
    train_keys = ("image", "mos", "index")
    history = fit(student, cfg, train_set, val_set, out_dir, loss_fn, card_info, extra=adapter,
                  collate=lambda items: {k: torch.stack([torch.as_tensor(it[k]) for it in items]) for k in train_keys})
    store_best_metrics(out_dir, cfg, csv_path)
    return history
