"""Multi-View Attention Learning (MAL), light version, with a score that comes from its maps.

Each view is one "opinion": it re-weights channels (channel-wise attention: what to look for),
then spreads a softmax attention over grid positions (position-wise attention: where to look)
and reads a local quality q(x, y) in [0, 1] there. Its opinion is the attention-weighted mean
quality, so the heatmaps shown to an inspector are exactly what the score is made of:

    opinion_v = sum_xy A_v(x, y) * q_v(x, y),   score = sum_v w_v * opinion_v  (w: softmax)

Every operation is a 1x1 or depthwise conv, so the cost stays linear in the number of pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ViewReadout:
    attention: torch.Tensor  # [B, V, h, w], each view sums to 1 over positions
    quality: torch.Tensor  # [B, V, h, w] in [0, 1], higher is better
    opinions: torch.Tensor  # [B, V] in [0, 1]
    features: torch.Tensor  # [B, V, D, h, w] per-view hidden features (for distillation)


def read_views(att_logits: torch.Tensor, quality_logits: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """[B, V, h, w] logits -> (attention, quality, opinions); shared by light and dense MAL."""
    b, v, h, w = att_logits.shape
    attention = torch.softmax(att_logits.reshape(b, v, h * w), dim=-1).reshape(b, v, h, w)
    quality = torch.sigmoid(quality_logits)
    opinions = (attention * quality).sum(dim=(2, 3))
    return attention, quality, opinions


class LightView(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        squeeze = max(8, width // 4)
        self.channel_gate = nn.Sequential(nn.Linear(width, squeeze), nn.GELU(), nn.Linear(squeeze, width))
        self.local = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, groups=width, bias=False),
            nn.BatchNorm2d(width),
            nn.Conv2d(width, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
        )
        self.attention_logit = nn.Conv2d(hidden, 1, 1)
        self.quality_logit = nn.Conv2d(hidden, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        gate = torch.sigmoid(self.channel_gate(x.mean(dim=(2, 3))))[:, :, None, None]
        h = self.local(x * gate)
        return self.attention_logit(h), self.quality_logit(h), h


class LightMAL(nn.Module):
    def __init__(self, width: int, hidden: int, views: int):
        super().__init__()
        self.views = nn.ModuleList(LightView(width, hidden) for _ in range(views))

    def forward(self, lda: torch.Tensor) -> ViewReadout:
        outs = [view(lda) for view in self.views]
        att = torch.cat([o[0] for o in outs], 1)
        qual = torch.cat([o[1] for o in outs], 1)
        attention, quality, opinions = read_views(att, qual)
        return ViewReadout(attention, quality, opinions, torch.stack([o[2] for o in outs], 1))


class OpinionFusion(nn.Module):
    """Content-adaptive convex weights over the views' opinions (starts as a plain mean)."""

    def __init__(self, in_dim: int, views: int):
        super().__init__()
        self.weight_logits = nn.Linear(in_dim, views)
        nn.init.zeros_(self.weight_logits.weight)
        nn.init.zeros_(self.weight_logits.bias)

    def forward(self, context: torch.Tensor, opinions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = torch.softmax(self.weight_logits(context), dim=-1)
        return (weights * opinions).sum(-1), weights


def view_diversity_loss(attention: torch.Tensor) -> torch.Tensor:
    """Mean pairwise cosine similarity of the views' attention maps (0 = disjoint views).

    Added to the training loss with a small weight so the views do not collapse into one.
    """
    b, v = attention.shape[:2]
    if v < 2:
        return attention.new_zeros(())
    flat = F.normalize(attention.reshape(b, v, -1), dim=-1)
    sim = flat @ flat.transpose(1, 2)  # [B, V, V]
    off_diag = sim.sum(dim=(1, 2)) - sim.diagonal(dim1=1, dim2=2).sum(-1)
    return (off_diag / (v * (v - 1))).mean()
