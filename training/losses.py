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


def distill_losses(student: dict, teacher: dict, adapter, mos: torch.Tensor, weights: dict) -> dict[str, torch.Tensor]:
    """Knowledge distillation from a frozen teacher, plus ground truth where a MOS exists.

    - ``feature``: MSE between the student's fused LDA map (through a 1x1 adapter to the
      teacher's width) and the teacher's, on the same grid;
    - ``attention``: KL(teacher || student) of each view's attention over positions;
    - ``quality``: MSE of each view's local quality map;
    - ``opinion`` / ``score``: MSE of the views' opinions and of the fused score (on 0-1);
    - ``l1`` / ``plcc``: against human MOS, on the items that have one (NaN = unlabeled).
    """
    s_att = student["attention"].flatten(2).clamp_min(1e-8)
    t_att = teacher["attention"].flatten(2).clamp_min(1e-8)
    terms = {
        "feature": F.mse_loss(adapter(student["lda"]), teacher["lda"]),
        "attention": (t_att * (t_att.log() - s_att.log())).sum(-1).mean(),
        "quality": F.mse_loss(student["quality"], teacher["quality"]),
        "opinion": F.mse_loss(student["opinions"] / 100, teacher["opinions"] / 100),
        "score": F.mse_loss(student["score"] / 100, teacher["score"] / 100),
        "diversity": view_diversity_loss(student["attention"]),
    }
    labeled = ~torch.isnan(mos)
    pred = student["score"] / 100
    zero = pred.new_zeros(())
    terms["l1"] = F.l1_loss(pred[labeled], mos[labeled]) if labeled.any() else zero
    terms["plcc"] = plcc_loss(pred[labeled], mos[labeled]) if labeled.sum() >= 3 else zero
    terms["total"] = sum(weights.get(k, 0.0) * v for k, v in terms.items())
    return terms


def ranking_loss(scores: torch.Tensor, margin: float = 0.02) -> torch.Tensor:
    """Hinge loss over every ordered pair of a ladder: [G, L] scores on 0-1, column 0 the best.

    Each milder version must score at least ``margin`` above every stronger one.
    """
    diff = scores[:, :, None] - scores[:, None, :]  # [G, L, L]: milder i minus stronger j
    upper = torch.triu(torch.ones_like(diff[0], dtype=torch.bool), diagonal=1)
    return F.relu(margin - diff[:, upper]).mean()


def damage_map_loss(distortion: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """BCE between the distortion map [G, 1, h, w] and the region mask [G, H, W] averaged into
    the map's cells (a cell half inside the region has target 0.5)."""
    target = F.adaptive_avg_pool2d(mask[:, None].float(), distortion.shape[-2:])
    return F.binary_cross_entropy(distortion.clamp(1e-6, 1 - 1e-6), target)


def synthetic_group_losses(model, batch: dict) -> dict[str, torch.Tensor]:
    return synthetic_group_terms(model, batch)[0]


def synthetic_group_terms(model, batch: dict) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Ranking and map terms for groups of synthetic distortions (``RankingGroups`` batches):
    ``images`` [G, L+2, 3, H, W] (pristine, levels 1..L, then the region-damaged copy), ``mask``
    [G, H, W]. Milder levels must score higher; the damaged copy's map must match the mask.
    Also returns the ladders' scores [G, L+1] on 0-1, for terms that need the scores themselves."""
    g, n = batch["images"].shape[:2]
    out = model(batch["images"].flatten(0, 1))
    scores = (out["score"] / 100).view(g, n)
    maps = out["distortion"].view(g, n, *out["distortion"].shape[1:])
    terms = {
        "rank": ranking_loss(scores[:, :-1]),
        "map": damage_map_loss(maps[:, -1], batch["mask"]),
        "map_whole": whole_crop_map_loss(maps[:, :-1]),
        "diversity": view_diversity_loss(out["attention"]),
    }
    return terms, scores[:, :-1]


def whole_crop_map_loss(ladder_maps: torch.Tensor, damaged_from: int = 4) -> torch.Tensor:
    """BCE of a ladder's maps [G, L, 1, h, w] (column 0 pristine) against a uniform target: 0
    for the pristine crop, 1 where the whole crop is damaged at level ``damaged_from`` or more.

    The region term alone only teaches "more damaged than the rest of this crop". A native
    map is drawn tile by tile, and a tile usually lies wholly inside or wholly outside a
    damaged area, so the map must also be right in absolute terms: clean content low, damaged
    content high, with nothing else in the tile to compare against."""
    clean = ladder_maps[:, 0].clamp(1e-6, 1 - 1e-6)
    damaged = ladder_maps[:, damaged_from:].clamp(1e-6, 1 - 1e-6)
    return 0.5 * (F.binary_cross_entropy(clean, torch.zeros_like(clean))
                  + F.binary_cross_entropy(damaged, torch.ones_like(damaged)))


def pairwise_rank_loss(pred: torch.Tensor, mos: torch.Tensor, temperature: float = 0.05, min_gap: float = 0.02) -> torch.Tensor:
    """Logistic loss over every pair of the batch whose MOS differ by more than ``min_gap`` (on
    0-1): the better-rated photo should score higher. Scale-free in the MOS, so it may be used
    on any dataset, but only on pairs from one dataset (their MOS are comparable)."""
    better = (mos[:, None] - mos[None, :]) > min_gap
    if not better.any():
        return pred.new_zeros(())
    return F.softplus(-(pred[:, None] - pred[None, :])[better] / temperature).mean()


def rated_batch_losses(out: dict, mos: torch.Tensor, anchor: bool, weights: dict) -> dict[str, torch.Tensor]:
    """MOS terms for a batch drawn from one dataset. Only the anchor dataset's MOS is the score's
    scale, so only there does L1 pull the score to the MOS; every dataset adds the scale-free
    terms (batch PLCC, pairwise ranking)."""
    pred = out["score"] / 100.0
    terms = {
        "l1": F.l1_loss(pred, mos) if anchor else pred.new_zeros(()),
        "plcc": plcc_loss(pred, mos),
        "rank": pairwise_rank_loss(pred, mos),
        "diversity": view_diversity_loss(out["attention"]),
    }
    terms["total"] = sum(weights.get(k, 0.0) * v for k, v in terms.items())
    return terms


def verdict_loss(ladder_scores: torch.Tensor, heavy_from: torch.Tensor, pass_line: float, fail_line: float) -> torch.Tensor:
    """Hinge terms that give the default thresholds their meaning on synthetic ladders [G, L+1]
    (column 0 the clean crop, column k level k): the clean crop at or above ``pass_line``, and
    every level from ``heavy_from`` [G] (per ladder: the first level of its kind an inspector
    rejects at a glance; 0 for a kind that is no damage at any level) below ``fail_line``."""
    clean = F.relu(pass_line - ladder_scores[:, 0]).mean()
    levels = torch.arange(ladder_scores.shape[1], device=ladder_scores.device)
    heavy = (heavy_from[:, None] > 0) & (levels[None, :] >= heavy_from[:, None])
    damaged = F.relu(ladder_scores - fail_line)[heavy].mean() if heavy.any() else ladder_scores.new_zeros(())
    return clean + damaged
