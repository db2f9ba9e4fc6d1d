"""Export an IQANet to the app's model contract: NAME.onnx + NAME.json (card).

The ONNX graph takes ``image`` float32 [1, 3, H, W] with H and W dynamic and returns the five
contract outputs. Both files are written atomically, the .onnx first, so a card never points at
a file that is not there yet.
"""
from __future__ import annotations

import json
import logging
import shutil
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn

from app.core.model.contract import (CARD_FORMAT, DETAIL_SHA_KEY, INPUT_NAME, OPTIONAL_OUTPUT_RANKS, OUTPUT_RANKS,
                                     sha256_file)
from models import IQANet, contract_outputs

from .atomic import atomic_path, write_text_atomic
from .reading_rule import reading_block, rule_of

log = logging.getLogger(__name__)
OPSET = 18


class ContractWrapper(nn.Module):
    """The model as the app sees it: one input, the five contract outputs as a tuple."""

    def __init__(self, model: IQANet):
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor):
        out = self.model(image)
        return tuple(out[k] for k in contract_outputs(self.model))


def export_onnx(model: IQANet, onnx_path: Path, example_hw: tuple[int, int] = (320, 384)) -> None:
    """Write the ONNX graph with dynamic H and W.

    The TorchScript exporter takes ~1 s for the student and matches torch to 1e-5. The dynamo
    exporter (torch.export) could not prove its shape guards for dynamic H/W through timm's
    backbones and fell back to a draft export taking ~7 minutes, so it is used only where the
    TorchScript one cannot go: the paper config's adaptive pooling to a fixed grid.
    """
    wrapper = ContractWrapper(model).eval()
    example = torch.randn(1, 3, *example_hw)
    names = dict(input_names=[INPUT_NAME], output_names=list(contract_outputs(model)), opset_version=OPSET)
    with atomic_path(onnx_path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model.config.fixed_grid is None:
            torch.onnx.export(
                wrapper, (example,), str(tmp), dynamic_axes={INPUT_NAME: {2: "height", 3: "width"}},
                dynamo=False, **names,
            )
        else:
            height = torch.export.Dim("height", min=64, max=8192)
            width = torch.export.Dim("width", min=64, max=8192)
            program = torch.onnx.export(
                wrapper, (example,), dynamic_shapes={INPUT_NAME: {2: height, 3: width}},
                dynamo=True, external_data=False, **names,
            )
            program.save(str(tmp))
    # Export flips modules back to their previous mode; callers expect an eval-mode model.
    model.eval()



def stamp_metadata(onnx_path: Path, fields: dict[str, str]) -> None:
    """Add ``fields`` to the graph's metadata (ONNX Runtime reads them as custom metadata)."""
    import onnx

    graph = onnx.load(str(onnx_path))
    for key, value in fields.items():
        graph.metadata_props.add(key=key, value=value)
    with atomic_path(onnx_path) as tmp:
        onnx.save(graph, str(tmp))

def build_card(model: IQANet, name: str, onnx_path: Path, info: dict | None = None) -> dict:
    cfg = model.config
    info = info or {}
    return {
        "format": CARD_FORMAT,
        "name": name,
        "version": info.get("version", "0.0.0"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "backbone": cfg.backbone,
        "backbone_weights": info.get("backbone_weights", model.weights_source),
        "config": cfg.to_dict(),
        "views": cfg.views,
        "input": {
            "name": INPUT_NAME,
            "layout": "NCHW",
            "color": "RGB",
            "scale": 1.0 / 255.0,  # uint8 -> [0, 1], then (x - mean) / std
            "mean": list(cfg.mean),
            "std": list(cfg.std),
            "min_side": 33,
            "max_side": 8192,
        },
        "stride": model.stride,
        "fixed_grid": cfg.fixed_grid,
        "score_range": [0.0, 100.0],
        "higher_is_better": True,
        "distortion_map": "damage: 0 = clean, 1 = badly damaged (higher is worse)",
        "outputs": {k: f"rank {(OUTPUT_RANKS | OPTIONAL_OUTPUT_RANKS)[k]}" for k in contract_outputs(model)},
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": info.get("training", {"data": None, "recipe": "untrained (freshly initialised)"}),
        "metrics": info.get("metrics", {}),
        "onnx_file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
    }


PROTECTED_CARD_FIELDS = ("format", "name", "input", "onnx_file", "sha256", "config", "views", "stride", "detail_model")


def export_model(model: IQANet, out: str | Path, info: dict | None = None, extra: dict | None = None,
                 detail: IQANet | None = None, detail_info: dict | None = None,
                 detail_graph: Path | None = None) -> tuple[Path, Path]:
    """Write ``out``.onnx and ``out``.json; return their paths.

    ``extra``: further card fields (commands, credits, evaluations); it cannot change what the
    app relies on (file, hash, input, views). ``detail``: a second network for the card's detail
    reader (native tiles and maps), written as ``out``-detail.onnx; it must take the same input.
    ``detail_graph``: an already exported detail graph (e.g. one whose views were retrained from
    ONNX alone), copied as ``out``-detail.onnx; ``detail_info`` describes it."""
    out = Path(out)
    onnx_path = out.with_name(out.name + ".onnx")
    card_path = out.with_name(out.name + ".json")
    detail_entry = None
    if detail is not None:
        if (detail.config.mean, detail.config.std, detail.stride) != (model.config.mean, model.config.std, model.stride):
            raise ValueError("the detail network must share the main one's input normalisation and stride")
        detail_path = out.with_name(out.name + "-detail.onnx")
        export_onnx(detail, detail_path)
        detail_entry = {"onnx_file": detail_path.name, "sha256": sha256_file(detail_path),
                        "parameters": sum(p.numel() for p in detail.parameters()),
                        "training": (detail_info or {}).get("training", {})}
    elif detail_graph is not None:
        detail_path = out.with_name(out.name + "-detail.onnx")
        with atomic_path(detail_path) as tmp:
            shutil.copyfile(detail_graph, tmp)
        detail_entry = {"onnx_file": detail_path.name, "sha256": sha256_file(detail_path),
                        "training": (detail_info or {}).get("training", {})}
    export_onnx(model, onnx_path)
    if detail_entry is not None:
        # The main graph names its detail graph, so the main graph's hash (the model's identity
        # in a station's database) changes whenever either network does: the same overview
        # with a new detail network is a new model, never mixed with the old one's scores.
        stamp_metadata(onnx_path, {DETAIL_SHA_KEY: detail_entry["sha256"]})
    card = build_card(model, out.name, onnx_path, info)
    if detail_entry is not None:
        card["detail_model"] = detail_entry
    clash = [k for k in (extra or {}) if k in PROTECTED_CARD_FIELDS]
    if clash:
        raise ValueError(f"card extras may not set {', '.join(clash)}")
    card.update(extra or {})
    if "reading" in card:  # checked, and completed with the sentences saying what the score means
        card["reading"] = reading_block(rule_of(card["reading"]), card["reading"], card.get("notes") or {})
    write_text_atomic(card_path, json.dumps(card, indent=2) + "\n")
    return onnx_path, card_path


def parity(model: IQANet, onnx_path: Path, sizes: list[tuple[int, int]], seed: int = 0) -> dict[str, float]:
    """Max |ONNX Runtime - torch| per contract output over random inputs of the given sizes."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    names = contract_outputs(model)
    worst = {k: 0.0 for k in names}
    model = model.eval()
    for h, w in sizes:
        x = torch.randn(1, 3, h, w, generator=gen)
        with torch.no_grad():
            ref = model(x)
        got = dict(zip(names, session.run(list(names), {INPUT_NAME: x.numpy()})))
        for k in names:
            if got[k].shape != tuple(ref[k].shape):
                raise AssertionError(f"{k}: ONNX shape {got[k].shape} != torch {tuple(ref[k].shape)} at {h}x{w}")
            worst[k] = max(worst[k], float(np.abs(got[k] - ref[k].numpy()).max()))
    return worst


def annotate_card(card_path: str | Path, fields: dict) -> dict:
    """Add fields to an exported card, rewritten atomically; the contract's fields stay as they are."""
    card_path = Path(card_path)
    clash = [k for k in fields if k in PROTECTED_CARD_FIELDS]
    if clash:
        raise ValueError(f"card fields {', '.join(clash)} belong to the export and cannot be changed")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card.update(fields)
    write_text_atomic(card_path, json.dumps(card, indent=2) + "\n")
    return card


def attach_detail_graph(card_path: str | Path, detail_onnx: str | Path, entry: dict) -> dict:
    """Give an exported model an existing detail graph (a copy beside it, its card's
    ``detail_model`` = ``entry`` with the copy's name and hash): a fine-tune keeps its base's reader."""
    card_path, detail_onnx = Path(card_path), Path(detail_onnx)
    target = card_path.with_name(card_path.stem + "-detail.onnx")
    with atomic_path(target) as tmp:
        shutil.copyfile(detail_onnx, tmp)
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["detail_model"] = dict(entry, onnx_file=target.name, sha256=sha256_file(target))
    write_text_atomic(card_path, json.dumps(card, indent=2) + "\n")
    return card


def save_slim_weights(model: IQANet, path: Path, card_info: dict | None = None) -> Path:
    """The model's weights for later fine-tuning: config + float16 state dict, no optimiser state
    (half the size; loads with ``models.load_checkpoint``, which casts back to float32)."""
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"config": model.config.to_dict(), "model": state, "card_info": card_info or {}}, tmp)
    return path
