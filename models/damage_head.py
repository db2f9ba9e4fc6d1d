"""A map-only reader of local damage: the plain "damage at 100 %" map, apart from the score.

The score's own map (1 - the views' fused quality) feeds the score, so sharpening it moves the
score: training the views' quality maps to be right in absolute terms cost the detail network
its scale consistency. This head reads the same features (the fused LDA map and every stage's
projection) through ``detach``: its training can never move the trunk, the views or the score,
so a model with it scores exactly as the same model without it.
"""
from __future__ import annotations

import torch
from torch import nn

from .lda import conv_bn_act


class DamageHead(nn.Module):
    """[B, width * (stages + 1), h, w] detached features -> [B, 1, h, w] damage in [0, 1].

    Two depthwise 3x3 mixes (the second dilated) give each cell about three cells of context
    on every side, enough to tell a smooth region (sky) from one that lost its detail (blur)."""

    def __init__(self, width: int, stages: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(
            conv_bn_act(width * (stages + 1), hidden),
            conv_bn_act(hidden, hidden, 3, groups=hidden),
            nn.Conv2d(hidden, hidden, 3, padding=2, dilation=2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.GELU(),
            conv_bn_act(hidden, hidden),
            nn.Conv2d(hidden, 1, 1),
        )

    def forward(self, lda: torch.Tensor, lda_stages: list[torch.Tensor]) -> torch.Tensor:
        features = torch.cat([lda.detach(), *(t.detach() for t in lda_stages)], 1)
        return torch.sigmoid(self.net(features))
