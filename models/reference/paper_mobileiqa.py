"""PaperMobileIQANet: the MobileIQA authors' network at their published dimensions.

MobileNetV3-Large, all five stages, each projected to 256 and pooled to a fixed 22 x 22 grid
(``FixedGridLDA``), three dense MALs plus a dense fusion MAL (``DenseMultiViewMAL``): about 81 M
parameters, and the grid is the same whatever the photo's size. Kept for side-by-side benchmarks
(config ``paper``); our readout sits on top so its outputs follow the same contract as the
product's ``models.mobileiqa.MobileIQANet``.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..backbones import freeze_early_blocks
from ..base import IQANetBase
from ..configs import IQAConfig
from ..mal import OpinionFusion
from ..registry import register_model
from .paper_lda import FixedGridLDA
from .paper_mal import DenseMultiViewMAL


@register_model("paper_mobileiqa", default_config="paper")
class PaperMobileIQANet(IQANetBase):
    mal_kind = "dense"

    def __init__(self, config: IQAConfig, weights: str | Path | None = "auto"):
        super().__init__(config, weights)
        channels = self.stage_channels
        self.lda = FixedGridLDA(channels, config.width, config.fixed_grid)
        self.mal = DenseMultiViewMAL(config.width, len(channels), config.fixed_grid, config.views)
        self.fusion = OpinionFusion(config.width, config.views)
        freeze_early_blocks(self.backbone, config.frozen_blocks)

    @classmethod
    def check_config(cls, config: IQAConfig) -> None:
        super().check_config(config)
        if config.fixed_grid is None:
            raise ValueError("the dense MAL needs a fixed grid")
        if config.damage_head:
            raise ValueError("a damage head needs the light MAL's grid that follows the input")

    @property
    def stride(self) -> None:
        return None  # a fixed grid: a cell is no fixed number of input pixels

    def grid_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """[B, S, C, N, N] stacked stage features on the fixed grid (the padding is averaged in)."""
        return self.lda(stages)

    def head(self, lda: torch.Tensor, lda_stages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        views, context = self.mal(lda)
        return self.readout(views, context, lda, lda_stages)
