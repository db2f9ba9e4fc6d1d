"""The model registry, the timm way: architectures register by name, configs stay data.

    @register_model("mobileiqa", default_config="student")
    class MobileIQANet(IQANetBase): ...

``create_model`` takes a config name (``student``, ``teacher``, ``paper``: models/configs.py),
an ``IQAConfig``, or an architecture name (``mobileiqa``, ``paper_mobileiqa``: its default
config). A config says which architecture builds it through its ``mal`` field, so a checkpoint,
which carries its config, rebuilds itself with ``load_checkpoint``.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch

from .configs import CONFIGS, IQAConfig, get_config

if TYPE_CHECKING:
    from .base import IQANetBase

_MODELS: dict[str, type[IQANetBase]] = {}
_DEFAULT_CONFIGS: dict[str, str] = {}


def register_model(name: str, default_config: str) -> Callable[[type[IQANetBase]], type[IQANetBase]]:
    """Class decorator: ``name`` builds the class; ``default_config`` is what that name alone builds."""

    def add(cls: type[IQANetBase]) -> type[IQANetBase]:
        if name in _MODELS or name in CONFIGS:
            raise ValueError(f"model name {name!r} is taken")
        if any(other.mal_kind == cls.mal_kind for other in _MODELS.values()):
            raise ValueError(f"two architectures for mal={cls.mal_kind!r}")
        _MODELS[name] = cls
        _DEFAULT_CONFIGS[name] = default_config
        cls.model_name = name
        return cls

    return add


def list_models() -> list[str]:
    """The registered architecture names (the configs that build them: ``models.CONFIGS``)."""
    return sorted(_MODELS)


def model_class(config: IQAConfig) -> type[IQANetBase]:
    """The registered architecture that builds ``config`` (chosen by ``config.mal``)."""
    for cls in _MODELS.values():
        if cls.mal_kind == config.mal:
            return cls
    raise ValueError(f"no registered model builds mal={config.mal!r} (config {config.name!r}); known: {', '.join(list_models())}")


def resolve_config(name_or_config: str | IQAConfig) -> IQAConfig:
    if isinstance(name_or_config, IQAConfig):
        return name_or_config
    if name_or_config in _DEFAULT_CONFIGS:
        return get_config(_DEFAULT_CONFIGS[name_or_config])
    if name_or_config in CONFIGS:
        return get_config(name_or_config)
    raise KeyError(f"unknown model {name_or_config!r}; configs: {', '.join(CONFIGS)}; architectures: {', '.join(list_models())}")


def create_model(name_or_config: str | IQAConfig, weights: str | Path | None = "auto", **overrides) -> IQANetBase:
    """Build a network from a config name, an ``IQAConfig`` or an architecture name.

    ``weights`` is about the *backbone's* ImageNet start: "auto", a file, or None for random.
    ``overrides`` replace config fields (``create_model("student", weights=None, damage_head=16)``).
    """
    config = resolve_config(name_or_config)
    if overrides:
        config = config.with_(**overrides)
    return model_class(config)(config, weights)


def load_checkpoint(path: str | Path, map_location: str = "cpu") -> tuple[IQANetBase, dict]:
    """Rebuild a model from a training checkpoint (config inside) with ``weights_only=True``;
    float16 weights (slim checkpoints) are cast back to float32 as they load."""
    ckpt = torch.load(path, map_location=map_location, weights_only=True)
    model = create_model(IQAConfig.from_dict(ckpt["config"]), weights=None)
    model.load_state_dict(ckpt["model"])
    model.weights_source = f"checkpoint:{Path(path).name}"  # every weight comes from training, none random
    return model, ckpt
