"""Stage ``teacher``: learn quality from human MOS (any model config; the teacher by default).

Also trains a student directly on MOS (no distillation), the baseline distillation must beat.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from models import create_model, load_checkpoint

from .data.mos import MOSDataset, read_mos_csv, split_items
from .loop import fit, save_checkpoint
from .losses import mos_losses

log = logging.getLogger(__name__)


def load_stage_config(path: Path, overrides: dict) -> dict:
    cfg = json.loads(Path(path).read_text())
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg


def build_model(cfg: dict):
    if cfg.get("init"):
        model, _ = load_checkpoint(cfg["init"])
        return model
    return create_model(cfg["model"], weights=cfg.get("backbone_weights", "auto"))


def synthetic_aux(cfg: dict, pristine: list[Path], model):
    """The config's ``aux`` synthetic terms, when it asks for them and pristine photos are given."""
    if not cfg.get("aux") or not pristine:
        return None
    from .aux_synthetic import SyntheticAux

    return SyntheticAux(list(pristine), model.config.mean, model.config.std, cfg["aux"], seed=cfg.get("seed", 0))


def run_mos_stage(cfg: dict, csv_path: Path, root: Path, out_dir: Path, pristine: list[Path] = ()) -> list[dict]:
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    model = build_model(cfg)
    items = read_mos_csv(csv_path)
    train_items, val_items = split_items(items, cfg.get("val_fraction", 0.15), cfg.get("split_seed", 0))
    mean, std = model.config.mean, model.config.std
    log.info("%s: %d train / %d val photos from %s", cfg["model"], len(train_items), len(val_items), csv_path)
    train_set = MOSDataset(train_items, root, mean, std, crop=cfg["crop"], seed=cfg.get("seed", 0))
    val_set = MOSDataset(val_items, root, mean, std) if val_items else None
    weights = cfg.get("loss", {"l1": 1.0, "plcc": 0.3, "diversity": 0.01})
    aux = synthetic_aux(cfg, pristine, model)

    def loss_fn(m, batch):
        terms = mos_losses(m(batch["image"]), batch["mos"], weights)
        return aux.add_to(m, terms) if aux else terms

    card_info = {
        "training": {
            "data": f"{csv_path} ({len(train_items)} train / {len(val_items)} val, split seed {cfg.get('split_seed', 0)})",
            "recipe": f"stage teacher (MOS): {json.dumps(cfg, sort_keys=True)}"
            + (f"; synthetic terms from {[str(p) for p in pristine]}" if aux else ""),
        }
    }
    history = fit(model, cfg, train_set, val_set, out_dir, loss_fn, card_info)
    store_best_metrics(out_dir, cfg, csv_path)
    return history


def store_best_metrics(out_dir: Path, cfg: dict, csv_path: Path | None = None, split: str | None = None) -> None:
    """Put the best epoch's validation figures on the best checkpoint's card; ``split`` says
    which photos they are (default: the config's fraction of ``csv_path``)."""
    best = out_dir / "best.pt"
    ckpt = torch.load(best, map_location="cpu", weights_only=True)
    row = ckpt["history"][-1]
    split = split or f"{cfg.get('val_fraction', 0.15):.0%} of {csv_path.name}, seed {cfg.get('split_seed', 0)}"
    ckpt["card_info"]["metrics"] = {k: v for k, v in row.items() if k.startswith("val_")} | {"split": split, "epoch": row["epoch"]}
    save_checkpoint(best, ckpt)
