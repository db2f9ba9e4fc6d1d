"""IQANet: backbone -> LDA -> MAL views -> opinion fusion, one class for every config.

The forward pass returns a dict; the ONNX contract's five outputs are a subset of it:
    score       [B]          0-100, higher is better
    opinions    [B, V]       each view's score, 0-100; score is their fusion-weighted mean
    attention   [B, V, h, w] where each view looked (sums to 1 per view)
    distortion  [B, 1, h, w] 1 - fused local quality: higher means more damage
    embedding   [B, D]       pooled LDA features (for calibration)
    damage      [B, 1, h, w] optional (config.damage_head): the plain local damage map of a
                             map-only head that never moves the score (models.damage_head)
plus training-only tensors (per-view quality, fusion weights, fused and per-stage LDA
features, view features), which distillation reads.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import create_backbone, freeze_early_blocks, stage_info
from .configs import IQAConfig, get_config
from .damage_head import DamageHead
from .lda import FixedGridLDA, GridLDA
from .mal import LightMAL, OpinionFusion
from .paper_mal import DenseMultiViewMAL

PAD_MULTIPLE = 32
CONTRACT_OUTPUTS = ("score", "opinions", "attention", "distortion", "embedding", "fusion_weights")


def contract_outputs(model: "IQANet") -> tuple[str, ...]:
    """The outputs an export of ``model`` carries: the contract's, plus its damage head's map."""
    return CONTRACT_OUTPUTS + (("damage",) if model.config.damage_head else ())


class IQANet(nn.Module):
    def __init__(self, config: IQAConfig, weights: str | Path | None = "auto"):
        super().__init__()
        self.config = config
        self.backbone, self.weights_source = create_backbone(config.backbone, config.stage_indices, weights)
        channels, reductions = stage_info(self.backbone)
        self.stage_channels = channels
        if config.mal == "light":
            self.lda = GridLDA(channels, reductions, config.width, config.grid_stride)
            self.mal = LightMAL(config.width, config.view_width, config.views)
        elif config.mal == "dense":
            if config.fixed_grid is None:
                raise ValueError("the dense MAL needs a fixed grid")
            self.lda = FixedGridLDA(channels, config.width, config.fixed_grid)
            self.mal = DenseMultiViewMAL(config.width, len(channels), config.fixed_grid, config.views)
        else:
            raise ValueError(f"unknown MAL kind {config.mal!r}")
        self.fusion = OpinionFusion(config.width, config.views)
        if config.damage_head:
            if config.mal != "light":
                raise ValueError("a damage head needs the light MAL's grid that follows the input")
            self.damage_head = DamageHead(config.width, len(channels), config.damage_head)
        freeze_early_blocks(self.backbone, config.frozen_blocks)

    @property
    def stride(self) -> int | None:
        """Input pixels per map cell (None when the grid is fixed)."""
        return None if self.config.fixed_grid else self.config.grid_stride

    def grid_features(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The light MAL's input: the fused LDA map and every stage's projection, on the grid
        of the unpadded image (what a damage head reads)."""
        h, w = image.shape[-2:]
        # Edge-pad to a multiple of 32 so every strided conv sees an even size (static "same"
        # padding, simple shapes for export); the padded cells are cropped off the grid below.
        pad_h, pad_w = (-h) % PAD_MULTIPLE, (-w) % PAD_MULTIPLE
        image = F.pad(image, (0, pad_w, 0, pad_h), mode="replicate")
        return self.grid_from_stages(self.backbone(image), h, w)

    def grid_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The LDA grid from the backbone's stage outputs of an (h, w) image (padded as above)."""
        lda, lda_stages = self.lda(stages)
        if self.config.mal == "light":
            s = self.config.grid_stride
            grid_h, grid_w = (h + s - 1) // s, (w + s - 1) // s
            lda = lda[:, :, :grid_h, :grid_w]
            lda_stages = [t[:, :, :grid_h, :grid_w] for t in lda_stages]
        return lda, lda_stages

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head(*self.grid_features(image))

    def forward_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> dict[str, torch.Tensor]:
        """``forward`` from the backbone's stage outputs (training on cached trunk features)."""
        return self.head(*self.grid_from_stages(stages, h, w))

    def head(self, lda: torch.Tensor, lda_stages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        if self.config.mal == "light":
            views = self.mal(lda)
            context = lda
        else:
            views, context = self.mal(lda)
        embedding = context.mean(dim=(2, 3))
        fused, weights = self.fusion(embedding, views.opinions)
        fused_quality = (weights[:, :, None, None] * views.quality).sum(1, keepdim=True)
        extra = {"damage": self.damage_head(lda, lda_stages)} if self.config.damage_head else {}
        return extra | {
            "score": 100.0 * fused,
            "opinions": 100.0 * views.opinions,
            "attention": views.attention,
            "distortion": 1.0 - fused_quality,
            "embedding": embedding,
            "quality": views.quality,
            "fusion_weights": weights,
            "lda": lda,
            "lda_stages": lda_stages,
            "view_features": views.features,
        }


def create_model(config: str | IQAConfig, weights: str | Path | None = "auto") -> IQANet:
    """Build a model from a config name (``student``, ``teacher``, ``paper``) or an IQAConfig.

    ``weights`` is about the *backbone's* ImageNet start: "auto", a file, or None for random.
    """
    cfg = get_config(config) if isinstance(config, str) else config
    return IQANet(cfg, weights)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[IQANet, dict]:
    """Rebuild a model from a training checkpoint (config inside) with ``weights_only=True``."""
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    config = IQAConfig.from_dict(ckpt["config"])
    model = create_model(config, weights=None)
    model.load_state_dict(ckpt["model"])
    model.weights_source = f"checkpoint:{Path(path).name}"  # every weight comes from training, none random
    return model, ckpt


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
