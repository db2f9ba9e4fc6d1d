"""Model configurations as data: every architecture choice of a model lives here.

A config travels into checkpoints and model cards, so a model can always be rebuilt from
what it says about itself (the timm idea: preprocessing and shape travel with the weights).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class IQAConfig:
    name: str
    backbone: str  # a timm model name
    # Backbone stages read by LDA (timm ``features_only`` indices).
    stage_indices: tuple[int, ...]
    # Common width every stage is projected to.
    width: int
    # LDA grid: ``grid_stride`` makes the grid follow the input (H/stride x W/stride);
    # ``fixed_grid`` pools every stage to N x N whatever the input (the paper's 22 x 22).
    grid_stride: int = 16
    fixed_grid: int | None = None
    # MAL: "light" (cheap convolutional views, any resolution) or "dense" (the paper's
    # fully connected attention over stages x grid positions).
    mal: str = "light"
    views: int = 3
    # Hidden width inside each light view.
    view_width: int = 64
    # Input normalisation the backbone's ImageNet weights expect.
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    # Backbone blocks kept frozen during training (stem + this many blocks).
    frozen_blocks: int = 2
    # Hidden width of a map-only damage head (models.damage_head; 0 = none): the plain local
    # damage map, trained apart from the score so sharpening it cannot move the score.
    damage_head: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stage_indices"] = list(self.stage_indices)
        d["mean"] = list(self.mean)
        d["std"] = list(self.std)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> IQAConfig:
        d = dict(d)
        for key in ("stage_indices", "mean", "std"):
            d[key] = tuple(d[key])
        return cls(**d)

    def with_(self, **changes) -> IQAConfig:
        return replace(self, **changes)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# The shipped mobile student: EfficientNet-Lite0 (ImageNet weights available offline), stride
# 8/16/32 stages on a stride-16 grid that follows the input, three light views.
STUDENT = IQAConfig(
    name="student",
    backbone="tf_efficientnet_lite0",
    stage_indices=(2, 3, 4),
    width=96,
    views=3,
    view_width=64,
)

# The heavy teacher: EfficientNet-Lite2, also stride 4 detail, wider features, wider views.
TEACHER = IQAConfig(
    name="teacher",
    backbone="tf_efficientnet_lite2",
    stage_indices=(1, 2, 3, 4),
    width=192,
    views=3,
    view_width=128,
)

# The authors' published dimensions (MobileIQA's released student): MobileNetV3-Large, all five
# stages, each projected to 256 and pooled to a fixed 22 x 22 grid, three dense MALs plus a dense
# fusion MAL. Kept for side-by-side benchmarks; about 81 M parameters.
PAPER = IQAConfig(
    name="paper",
    backbone="mobilenetv3_large_100",
    stage_indices=(0, 1, 2, 3, 4),
    width=256,
    fixed_grid=22,
    mal="dense",
    views=3,
    mean=IMAGENET_MEAN,
    std=IMAGENET_STD,
    frozen_blocks=0,
)

CONFIGS: dict[str, IQAConfig] = {c.name: c for c in (STUDENT, TEACHER, PAPER)}


def get_config(name: str) -> IQAConfig:
    try:
        return CONFIGS[name]
    except KeyError:
        raise KeyError(f"unknown model config {name!r}; known: {', '.join(CONFIGS)}") from None
