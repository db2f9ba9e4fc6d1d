"""The authors' Local Distortion Aware (LDA) fusion: every stage pooled to one fixed N x N grid.

Kept beside ``models.lda.GridLDA`` (the product's, whose grid follows the input) only for the
paper's reference network.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FixedGridLDA(nn.Module):
    """The authors' LDA: per stage 1x1 conv to 2C, GELU, pool to N x N, 1x1 conv to C.

    The grid is fixed whatever the input size, so fine detail of a large photo is averaged away.
    """

    def __init__(self, in_channels: list[int], width: int, grid: int):
        super().__init__()
        self.grid = grid
        self.stages = nn.ModuleList(
            nn.ModuleDict(
                {"expand": nn.Conv2d(c, 2 * width, 1), "reduce": nn.Conv2d(2 * width, width, 1)}
            )
            for c in in_channels
        )

    def forward(self, stages: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        out = []
        for feat, m in zip(stages, self.stages):
            x = F.adaptive_avg_pool2d(F.gelu(m["expand"](feat)), self.grid)
            out.append(m["reduce"](x))
        # [B, S, C, N, N]: the dense MAL reads all stages together.
        return torch.stack(out, 1), out
