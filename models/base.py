"""What every registered IQA network shares: a timm backbone, the output contract, the readout.

A network is backbone -> LDA -> MAL views -> opinion fusion. Its forward pass returns a dict;
the ONNX contract's outputs are a subset of it:
    score       [B]          0-100, higher is better
    opinions    [B, V]       each view's score, 0-100; score is their fusion-weighted mean
    attention   [B, V, h, w] where each view looked (sums to 1 per view)
    distortion  [B, 1, h, w] 1 - fused local quality: higher means more damage
    embedding   [B, D]       pooled LDA features (the exposure reader's input, and a site calibration's)
    pooled_stages [B, S]     the backbone's last two stages, each averaged over the photo: what a
                             site calibration reads beside the embedding (on a real-ratings site
                             the 96-value embedding left half the fine-tune's gain unreached)
    damage      [B, 1, h, w] optional (config.damage_head): the plain local damage map of a
                             map-only head that never moves the score (models.damage_head)
plus training-only tensors (per-view quality, fusion weights, fused and per-stage LDA
features, view features), which distillation reads.

The architectures themselves are ``models.mobileiqa.MobileIQANet`` (the product's) and
``models.reference.paper_mobileiqa.PaperMobileIQANet`` (the authors', for benchmarks); build
either with ``models.create_model``.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .backbones import create_backbone, stage_info
from .configs import IQAConfig
from .mal import ViewReadout

PAD_MULTIPLE = 32
CONTRACT_OUTPUTS = ("score", "opinions", "attention", "distortion", "embedding", "fusion_weights", "pooled_stages")
POOLED_STAGES = 2  # how many of the backbone's last stages ``pooled_stages`` averages


def contract_outputs(model: IQANetBase) -> tuple[str, ...]:
    """The outputs an export of ``model`` carries: the contract's, plus its damage head's map."""
    return CONTRACT_OUTPUTS + (("damage",) if model.config.damage_head else ())


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class IQANetBase(nn.Module):
    """The backbone and the readout; a subclass adds ``lda``, ``mal``, ``fusion`` (in that order:
    the order of construction is the order seeded weights are drawn in) and its grid and head."""

    #: the ``IQAConfig.mal`` value the architecture is built for (the registry dispatches on it)
    mal_kind: str = ""
    #: the name it is registered under (set by ``models.registry.register_model``)
    model_name: str = ""

    def __init__(self, config: IQAConfig, weights: str | Path | None = "auto"):
        if type(self) is IQANetBase:
            raise TypeError("IQANetBase is no network by itself: build one with models.create_model")
        self.check_config(config)
        super().__init__()
        self.config = config
        self.backbone, self.weights_source = create_backbone(config.backbone, config.stage_indices, weights)
        self.stage_channels, self.stage_reductions = stage_info(self.backbone)

    @classmethod
    def check_config(cls, config: IQAConfig) -> None:
        """Raise ValueError for a config this architecture cannot build (before any weights are made)."""
        if config.mal != cls.mal_kind:
            raise ValueError(f"{cls.__name__} is the {cls.mal_kind!r} MAL; config {config.name!r} asks for {config.mal!r}")

    @property
    def stride(self) -> int | None:
        """Input pixels per map cell (None when the grid is fixed)."""
        raise NotImplementedError

    def stages(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The backbone's stage outputs of an image edge-padded to a multiple of 32, so every
        strided conv sees an even size (static "same" padding, simple shapes for export); a grid
        that follows the input crops the padded cells off again."""
        h, w = image.shape[-2:]
        return self.backbone(F.pad(image, (0, (-w) % PAD_MULTIPLE, 0, (-h) % PAD_MULTIPLE), mode="replicate"))

    def grid_features(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The MAL's input: the fused LDA features and every stage's projection."""
        return self.grid_from_stages(self.stages(image), *image.shape[-2:])

    def grid_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The LDA features from the backbone's stage outputs of an (h, w) image (padded as above)."""
        raise NotImplementedError

    def head(self, lda: torch.Tensor, lda_stages: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """MAL views, fusion and the output dict from the LDA features."""
        raise NotImplementedError

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.forward_from_stages(self.stages(image), *image.shape[-2:])

    def forward_from_stages(self, stages: list[torch.Tensor], h: int, w: int) -> dict[str, torch.Tensor]:
        """``forward`` from the backbone's stage outputs (training on cached trunk features)."""
        pooled = torch.cat([t.mean(dim=(2, 3)) for t in stages[-POOLED_STAGES:]], dim=1)
        return self.head(*self.grid_from_stages(stages, h, w)) | {"pooled_stages": pooled}

    def readout(self, views: ViewReadout, context: torch.Tensor, lda: torch.Tensor, lda_stages: list[torch.Tensor],
                extra: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """The output dict: the views' opinions fused by weights read from the pooled ``context``."""
        embedding = context.mean(dim=(2, 3))
        fused, weights = self.fusion(embedding, views.opinions)
        fused_quality = (weights[:, :, None, None] * views.quality).sum(1, keepdim=True)
        return (extra or {}) | {
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
