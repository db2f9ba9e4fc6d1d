"""Stage ``pretrain`` (optional): learn to notice and localise distortions from pristine photos.

Each step sees groups of one crop at all levels of one distortion (ranking loss: milder must
score higher) and the same crop damaged inside a region (map loss: the distortion map should
match the region's mask). Neither needs human ratings; the MOS stages start from the result
(``init``) and bring the absolute scale.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch

from .data.ranking import RankingGroups
from .evaluate_synthetic import auroc
from .loop import fit, model_device
from .losses import synthetic_group_losses
from .stage_mos import build_model

log = logging.getLogger(__name__)


class HeldOutGroups(torch.utils.data.Dataset):
    """A fixed set of groups for validation (same every epoch)."""

    def __init__(self, groups: RankingGroups, n: int):
        self.items = [groups[i] for i in range(n)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


@torch.no_grad()
def validate_groups(model, dataset) -> dict[str, float]:
    """Fraction of correctly ordered level pairs, and the damage map's AUROC."""
    model.eval()
    device = model_device(model)
    right = total = 0
    aucs = []
    for item in dataset:
        out = {k: v.cpu() for k, v in model(item["images"].to(device)).items() if torch.is_tensor(v)}
        s = out["score"].numpy()
        ladder = s[:-1]
        right += sum(ladder[i] > ladder[j] for i in range(len(ladder)) for j in range(i + 1, len(ladder)))
        total += len(ladder) * (len(ladder) - 1) // 2
        damage = torch.nn.functional.interpolate(out["distortion"][-1:], size=item["mask"].shape, mode="bilinear")[0, 0]
        aucs.append(auroc(damage.numpy().ravel(), item["mask"].numpy().ravel() > 0.5))
    return {"pairs": right / total, "auroc": float(np.nanmean(aucs))}


def run_pretrain(cfg: dict, pristine: list[Path], out_dir: Path) -> list[dict]:
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    model = build_model(cfg)
    mean, std = model.config.mean, model.config.std
    train_set = RankingGroups(pristine, mean, std, cfg["crop"], cfg["groups_per_epoch"], seed=cfg.get("seed", 0))
    val_set = HeldOutGroups(RankingGroups(pristine, mean, std, cfg["crop"], 1, seed=10_000), cfg.get("val_groups", 24))
    weights = {"rank": 1.0, "map": 1.0, "map_whole": 0.0, "diversity": 0.01} | cfg.get("loss", {})

    def loss_fn(m, batch):
        terms = synthetic_group_losses(m, batch)
        terms["total"] = sum(weights[k] * v for k, v in terms.items())
        return terms

    card_info = {"training": {"data": f"synthetic distortions of {[str(p) for p in pristine]}",
                              "recipe": f"stage pretrain: {json.dumps(cfg, sort_keys=True)}"}}
    return fit(model, cfg, train_set, None, out_dir, loss_fn, card_info,
               validate_fn=lambda m: validate_groups(m, val_set), select_by="val_pairs")
