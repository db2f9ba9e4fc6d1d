"""MobileIQANet: the product's network, the one the app's ONNX models are exported from.

Backbone stages -> GridLDA on a grid that follows the input (one cell per ``grid_stride`` input
pixels) -> light MAL views -> opinion fusion, optionally a map-only damage head. Every operation
after the backbone is a 1x1 or depthwise conv, so cost stays linear in pixels and a 12-megapixel
photo runs whole. Configs: ``student`` (shipped) and ``teacher`` (models/configs.py).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .backbones import freeze_early_blocks
from .base import IQANetBase
from .configs import IQAConfig
from .damage_head import DamageHead
from .lda import GridLDA
from .mal import LightMAL, OpinionFusion
from .registry import register_model


@register_model("mobileiqa", default_config="student")
class MobileIQANet(IQANetBase):
    mal_kind = "light"

    def __init__(self, config: IQAConfig, weights: str | Path | None = "auto"):
        super().__init__(config, weights)
        channels = self.stage_channels
        self.lda = GridLDA(channels, self.stage_reductions, config.width, config.grid_stride)
        self.mal = LightMAL(config.width, config.view_width, config.views)
        self.fusion = OpinionFusion(config.width, config.views)
        if config.damage_head:
            self.damage_head = DamageHead(config.width, len(channels), config.damage_head)
        freeze_early_blocks(self.backbone, config.frozen_blocks)

    @classmethod
    def check_config(cls, config: IQAConfig) -> None:
        super().check_config(config)
        if config.fixed_grid is not None:
            raise ValueError("the light MAL's grid follows the input; a fixed grid is the paper's (mal='dense')")

    @property
    def stride(self) -> int:
        return self.config.grid_stride

    def grid_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The fused LDA map and every stage's projection on the grid of the unpadded (h, w)
        image (what a damage head reads): the padded cells are cropped off."""
        lda, lda_stages = self.lda(stages)
        s = self.config.grid_stride
        grid_h, grid_w = (h + s - 1) // s, (w + s - 1) // s
        return lda[:, :, :grid_h, :grid_w], [t[:, :, :grid_h, :grid_w] for t in lda_stages]

    def head(self, lda: torch.Tensor, lda_stages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        extra = {"damage": self.damage_head(lda, lda_stages)} if self.config.damage_head else None
        return self.readout(self.mal(lda), lda, lda, lda_stages, extra)
