"""Loss terms shared by the stages."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models import view_diversity_loss


def plcc_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - Pearson correlation over the batch: rewards getting the ranking's shape right."""
    p = pred - pred.mean()
    t = target - target.mean()
    return 1 - (p * t).sum() / (p.norm() * t.norm() + 1e-8)


def mos_losses(out: dict, mos: torch.Tensor, weights: dict) -> dict[str, torch.Tensor]:
    """L1 on MOS/100, batch PLCC, and the view-diversity term; ``total`` is their weighted sum."""
    pred = out["score"] / 100.0
    terms = {
        "l1": F.l1_loss(pred, mos),
        "plcc": plcc_loss(pred, mos),
        "diversity": view_diversity_loss(out["attention"]),
    }
    terms["total"] = sum(weights.get(k, 0.0) * v for k, v in terms.items())
    return terms
