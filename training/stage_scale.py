"""Stage ``scale``: teach a trained model to read every scale alike (the scale principle).

Starting from a trained model (the shipped student), three kinds of batch per step:
- LIVEC MOS at its own scale (as rated; never resized), with every view's opinion also pulled
  to the MOS so each opinion is a score on the same 0-100 scale as the fused score;
- native-resolution crops of clean high-resolution photos at random scales, pulled to the
  frozen reference's score of the whole photo at the viewing size (``ScaleConsistencyCrops``);
- synthetic ladders and region damage cut from the same photos at native resolution
  (``SyntheticAux``), so damage at 100 % still lowers the score and lights the map.
"""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from models import load_checkpoint

from .aux_synthetic import SyntheticAux
from .data.hires import ScaleConsistencyCrops, split_hires
from .data.mos import MOSDataset, read_mos_csv, split_items
from .device import to_device
from .loop import fit
from .losses import mos_losses
from .stage_mos import store_best_metrics

log = logging.getLogger(__name__)


def opinion_mos_loss(out: dict, target: torch.Tensor) -> torch.Tensor:
    """Every view's opinion against the same target (0-1): opinions on the score's own scale."""
    return F.l1_loss(out["opinions"] / 100, target[:, None].expand_as(out["opinions"]))


class ConsistencyTerm:
    def __init__(self, dataset: ScaleConsistencyCrops, batch: int, seed: int):
        loader = DataLoader(dataset, batch_size=batch, generator=torch.Generator().manual_seed(seed))
        self.batches = iter(loader)

    def losses(self, model) -> dict[str, torch.Tensor]:
        batch = to_device(next(self.batches), next(model.parameters()).device)
        out = model(batch["image"])
        return {"consistency": F.l1_loss(out["score"] / 100, batch["target"]),
                "consistency_opinions": opinion_mos_loss(out, batch["target"])}


def run_scale_stage(cfg: dict, csv_path: Path, root: Path, hires: list[Path], out_dir: Path) -> list[dict]:
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    model, _ = load_checkpoint(cfg["init"])
    reference = copy.deepcopy(model).eval()
    mean, std = model.config.mean, model.config.std
    train_items, val_items = split_items(read_mos_csv(csv_path), cfg.get("val_fraction", 0.15), cfg.get("split_seed", 0))
    hires_train, hires_held = split_hires(hires, cfg.get("hires_seed", 0))
    log.info("scale stage: %d MOS train / %d val; %d high-res photos for training, %d held out",
             len(train_items), len(val_items), len(hires_train), len(hires_held))
    weights = cfg["loss"]
    consistency = None  # off (weights 0) for the overview network: no targets to compute then
    if weights.get("consistency", 0.0) or weights.get("consistency_opinions", 0.0):
        side, crop = cfg["overview_side"], cfg["consistency_crop"]
        consistency = ConsistencyTerm(
            ScaleConsistencyCrops.from_files(hires_train, reference, side, crop, length=10**9, seed=cfg.get("seed", 0) + 3),
            cfg["consistency_batch"], cfg.get("seed", 0) + 3)
    del reference
    aux = SyntheticAux(hires_train, mean, std, cfg["aux"], seed=cfg.get("seed", 0))
    # Three kinds of batch per step would mix three pixel statistics into BatchNorm's running
    # averages (the validation RMSE doubled in a first run); a refinement keeps the trained ones.
    norms = [mod for mod in model.modules() if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm)]

    def loss_fn(m, batch):
        for norm in norms:
            norm.eval()
        out = m(batch["image"])
        terms = mos_losses(out, batch["mos"], weights)
        terms["opinions_mos"] = opinion_mos_loss(out, batch["mos"])
        if consistency is not None:
            terms.update(consistency.losses(m))
        terms["total"] = terms["total"] + sum(weights.get(k, 0.0) * terms[k]
                                              for k in ("opinions_mos", "consistency", "consistency_opinions") if k in terms)
        return aux.add_to(m, terms)

    train_set = MOSDataset(train_items, root, mean, std, crop=cfg["crop"], seed=cfg.get("seed", 0))
    val_set = MOSDataset(val_items, root, mean, std)
    card_info = {
        "training": {
            "data": (f"{csv_path} ({len(train_items)} train / {len(val_items)} val, split seed {cfg.get('split_seed', 0)}); "
                     f"high-res clean photos for scale consistency and native synthetic damage: "
                     f"{[p.name for p in hires_train]}; held out for the scale benchmark: {[p.name for p in hires_held]}"),
            "recipe": f"stage scale from {cfg['init']}: {json.dumps(cfg, sort_keys=True)}",
        }
    }
    history = fit(model, cfg, train_set, val_set, out_dir, loss_fn, card_info)
    store_best_metrics(out_dir, cfg, csv_path)
    return history
