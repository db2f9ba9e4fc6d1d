"""The authors' dense Multi-View Attention Learning, at their published dimensions.

Each MAL attends over all stages together with fully connected attention: once treating the
C channels as tokens described by their S x N x N positions, once treating the N x N
positions as tokens described by their S x C channels. The dense Q/K/V layers of size
(S * 22 * 22)^2 are why this "mobile" model has ~81 M parameters. Used by ``PaperMobileIQANet``
(the ``paper`` config) for side-by-side benchmarks; our readout (attention x quality -> opinions
-> fusion) sits on top so the outputs follow the same contract.
"""
from __future__ import annotations

import torch
from torch import nn

from ..mal import ViewReadout, read_views


class DenseSelfAttention(nn.Module):
    """Softmax attention between tokens with full ``dim x dim`` Q/K/V maps, residual."""

    def __init__(self, dim: int, drop: float = 0.1):
        super().__init__()
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.scale = dim**-0.5
        self.drop = nn.Dropout(drop)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # [B, T, dim]
        attn = torch.softmax(self.q(tokens) @ self.k(tokens).transpose(1, 2) * self.scale, -1)
        return tokens + self.drop(attn @ self.v(tokens))


class StageSelfAttention(nn.Module):
    """Non-local attention inside one stage's N x N grid (SAGAN style, learned residual gain)."""

    def __init__(self, width: int):
        super().__init__()
        self.q = nn.Conv2d(width, width // 8, 1)
        self.k = nn.Conv2d(width, width // 8, 1)
        self.v = nn.Conv2d(width, width, 1)
        self.gain = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.q(x).flatten(2).transpose(1, 2)
        k = self.k(x).flatten(2)
        attn = torch.softmax(q @ k, dim=-1)  # [B, hw, hw]
        out = (self.v(x).flatten(2) @ attn.transpose(1, 2)).reshape(b, c, h, w)
        return x + self.gain * out


class DenseMAL(nn.Module):
    def __init__(self, width: int, stages: int, grid: int):
        super().__init__()
        self.width, self.stages, self.grid = width, stages, grid
        self.per_stage = nn.ModuleList(StageSelfAttention(width) for _ in range(stages))
        self.over_positions = DenseSelfAttention(stages * grid * grid)  # channel tokens
        self.over_channels = DenseSelfAttention(stages * width)  # position tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, S, C, N, N] -> [B, C, N, N]
        b, s, c, n, _ = x.shape
        x = torch.stack([m(x[:, i]) for i, m in enumerate(self.per_stage)], 1)
        flat = x.reshape(b, s, c, n * n)
        channel_tokens = flat.permute(0, 2, 1, 3).reshape(b, c, s * n * n)
        a = self.over_positions(channel_tokens).reshape(b, c, s, n * n).permute(0, 2, 1, 3)
        position_tokens = flat.permute(0, 3, 1, 2).reshape(b, n * n, s * c)
        p = self.over_channels(position_tokens).reshape(b, n * n, s, c).permute(0, 2, 3, 1)
        return ((a + p) / 2).mean(1).reshape(b, c, n, n)


class DenseMultiViewMAL(nn.Module):
    """Three (or ``views``) dense MALs over the stages, plus a dense fusion MAL over the views."""

    def __init__(self, width: int, stages: int, grid: int, views: int):
        super().__init__()
        self.views = nn.ModuleList(DenseMAL(width, stages, grid) for _ in range(views))
        self.fusion = DenseMAL(width, views, grid)
        self.attention_logit = nn.Conv2d(width, 1, 1)
        self.quality_logit = nn.Conv2d(width, 1, 1)

    def forward(self, stacked: torch.Tensor) -> tuple[ViewReadout, torch.Tensor]:
        feats = torch.stack([m(stacked) for m in self.views], 1)  # [B, V, C, N, N]
        b, v, c, n, _ = feats.shape
        flat = feats.reshape(b * v, c, n, n)
        att = self.attention_logit(flat).reshape(b, v, n, n)
        qual = self.quality_logit(flat).reshape(b, v, n, n)
        attention, quality, opinions = read_views(att, qual)
        fused = self.fusion(feats)  # [B, C, N, N]: the context the fusion weights read
        return ViewReadout(attention, quality, opinions, feats), fused
