"""Stage ``damage``: give a trained network a map-only damage head (models.damage_head).

The network's own weights stay exactly as they are (the head reads detached features and only
its weights train), so its scores, and with them the scale consistency the ``scale`` stage
taught, cannot move. The head learns the plain local damage map from synthetic damage cut at
native resolution from clean photos, in absolute terms, because a native map is drawn tile by
tile and a tile usually lies wholly inside or wholly outside a damaged area:
- ``whole``: every crop of a ladder (pristine, levels 1..5 of one distortion over the whole
  crop) against a uniform target rising with the level (0 pristine .. 1 at level 5);
- ``region``: the crop damaged inside a region against its mask, scaled by the region's level.
Validation draws fresh damage on the same photos (the benchmark's held-out photos are never
seen): the region map's AUROC against its mask and the whole-crop AUROC of clean against
damaged crops; ``best.pt`` is the epoch with the higher mean of the two.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from models import load_checkpoint

from .data.hires import split_hires
from .data.mixed import list_images
from .data.ranking import RankingGroups
from .evaluate_synthetic import auroc
from .loop import fit

log = logging.getLogger(__name__)
LEVEL_TARGETS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # pristine, then levels 1..5 (synthetic.LEVELS)


def with_damage_head(model, hidden: int):
    """``model`` rebuilt with a fresh damage head, its own weights copied, every one frozen."""
    headed = type(model)(model.config.with_(damage_head=hidden), weights=None)
    missing, unexpected = headed.load_state_dict(model.state_dict(), strict=False)
    if unexpected or not all(k.startswith("damage_head.") for k in missing):
        raise ValueError(f"the network does not match its config: {missing or unexpected}")
    for name, p in headed.named_parameters():
        p.requires_grad = name.startswith("damage_head.")
    headed.weights_source = model.weights_source
    return headed


def damage_maps(model, images: torch.Tensor) -> torch.Tensor:
    """[N, 3, H, W] -> the head's [N, 1, h, w]; the frozen network runs without gradients and in
    eval mode (its BatchNorm statistics must not drift), only the head trains."""
    model.eval()
    model.damage_head.train(torch.is_grad_enabled())
    with torch.no_grad():
        lda, stages = model.grid_features(images)
    return model.damage_head(lda, stages)


def damage_losses(model, batch: dict, weights: dict) -> dict[str, torch.Tensor]:
    g, n = batch["images"].shape[:2]
    maps = damage_maps(model, batch["images"].flatten(0, 1))
    maps = maps.view(g, n, *maps.shape[1:]).clamp(1e-6, 1 - 1e-6)
    ladder = maps[:, :-1]
    levels = ladder.new_tensor(LEVEL_TARGETS[: ladder.shape[1]])[None, :, None, None, None].expand_as(ladder)
    region_target = F.adaptive_avg_pool2d(batch["mask"][:, None].float(), maps.shape[-2:])
    region_target = region_target * (batch["region_level"].float() / 5)[:, None, None, None]
    terms = {"whole": F.binary_cross_entropy(ladder, levels),
             "region": F.binary_cross_entropy(maps[:, -1], region_target)}
    terms["total"] = sum(weights[k] * v for k, v in terms.items())
    return terms


class DamageValidation:
    """Fixed groups of fresh damage; ``__call__(model)`` -> region, whole-crop and mean AUROC."""

    def __init__(self, photos: list[Path], mean, std, crop: int, groups: int, seed: int):
        source = RankingGroups(photos, mean, std, crop, length=groups, seed=seed)
        keep = [0, 3, 5, 6]  # pristine, level 3, level 5, the region copy: enough to judge, a third of the memory
        self.items = [(it["images"][keep], it["mask"].numpy()) for it in (source[i] for i in range(groups))]

    @torch.no_grad()
    def __call__(self, model) -> dict[str, float]:
        regions, clean, damaged = [], [], []
        for images, mask in self.items:
            maps = damage_maps(model, images.to(next(model.parameters()).device))[:, 0].cpu().numpy()
            clean.append(maps[0].mean())
            damaged += [maps[1].mean(), maps[2].mean()]
            cells = F.adaptive_avg_pool2d(torch.from_numpy(mask)[None, None], maps.shape[-2:])[0, 0].numpy()
            regions.append(auroc(maps[3].ravel(), cells.ravel() > 0.5))
        whole = auroc(np.array(clean + damaged), np.array([0] * len(clean) + [1] * len(damaged)))
        region = float(np.nanmean(regions))
        return {"region_auroc": region, "whole_auroc": whole, "map_auroc": (region + whole) / 2}


def damage_card_info(base_info: dict, cfg: dict, photos: list[Path], held_out: list[Path]) -> dict:
    """The starting network's card information (how it was trained) plus how its head was."""
    training = dict(base_info.get("training", {}))
    training["damage_head"] = {
        "data": f"synthetic damage at native resolution on {[p.name for p in photos]}; held out (never read): "
                f"{[p.name for p in held_out]}",
        "recipe": f"stage damage from {cfg['init']} (its weights frozen; only the damage head trains): {cfg}",
    }
    return base_info | {"training": training}


def run_damage_stage(cfg: dict, hires: list[Path], extra_photos: list[Path], out_dir: Path) -> list[dict]:
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    base, base_ckpt = load_checkpoint(cfg["init"])
    model = with_damage_head(base, cfg["hidden"])
    hires_train, hires_held = split_hires(hires, cfg.get("hires_seed", 0))
    photos = hires_train + list_images(extra_photos)
    log.info("damage stage: %d photos (%d high-res, %d held out and never read)", len(photos), len(hires_train), len(hires_held))
    mean, std = model.config.mean, model.config.std
    train_set = RankingGroups(photos, mean, std, cfg["crop"], length=cfg["groups_per_epoch"], seed=cfg.get("seed", 0))
    validation = DamageValidation(photos, mean, std, cfg["crop"], cfg["val_groups"], cfg.get("seed", 0) + 101)
    card_info = damage_card_info(base_ckpt.get("card_info", {}), cfg, photos, hires_held)
    return fit(model, cfg, train_set, None, out_dir, lambda m, b: damage_losses(m, b, cfg["loss"]), card_info,
               validate_fn=validation, select_by="val_map_auroc")
