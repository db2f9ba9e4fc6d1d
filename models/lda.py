"""Local Distortion Aware (LDA) feature fusion.

Several backbone stages (fine ones see noise and blur, coarse ones see content) are projected
to one width and brought onto one grid. Finer stages are *average-pooled* after a non-linear
projection, so local statistics such as noise energy survive the trip to a coarse grid, which
resizing the image first would have destroyed.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_act(cin: int, cout: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.GELU(),
    )


class GridLDA(nn.Module):
    """Stages -> one ``width``-channel map on a grid that follows the input (stride ``grid_stride``).

    Cost is linear in the number of pixels: 1x1 projections, pooling and a depthwise mix.
    """

    def __init__(self, in_channels: list[int], reductions: list[int], width: int, grid_stride: int):
        super().__init__()
        if grid_stride not in reductions:
            raise ValueError(f"grid stride {grid_stride} must be one of the stage strides {reductions}")
        self.reductions = list(reductions)
        self.grid_index = self.reductions.index(grid_stride)
        self.grid_stride = grid_stride
        self.project = nn.ModuleList(conv_bn_act(c, width) for c in in_channels)
        # After summing, a depthwise 3x3 lets each cell see its neighbours, then a 1x1 mixes.
        self.mix = nn.Sequential(conv_bn_act(width, width, 3, groups=width), conv_bn_act(width, width))

    def forward(self, stages: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        grid_hw = stages[self.grid_index].shape[-2:]
        resampled = []
        for feat, proj, red in zip(stages, self.project, self.reductions):
            x = proj(feat)
            if red < self.grid_stride:
                k = self.grid_stride // red
                # ceil_mode keeps the border cells, so the grid matches ceil(H / stride) exactly.
                x = F.avg_pool2d(x, k, k, ceil_mode=True, count_include_pad=False)
            elif red > self.grid_stride:
                x = F.interpolate(x, size=grid_hw, mode="bilinear", align_corners=False)
            resampled.append(x)
        fused = self.mix(torch.stack(resampled, 0).mean(0))
        return fused, resampled

