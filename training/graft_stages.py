"""Give an exported model's overview graph the ``pooled_stages`` output (a new model, every score
the base's to the last bit).

A site calibration reads the backbone's last two stages averaged over the photo beside the
embedding (training/README.md, "The calibration reads the pooled stages"). Models exported since carry that output; an older graph gets it here by adding
nodes to the graph itself: the stage tensors are the backbone outputs that the LDA's per-stage
projections read (``/model/lda/project.{i}/``, the TorchScript exporter's module-path names),
each averaged over its height and width, joined in stage order. Exporting the checkpoint again
would not do: a slim (float16) checkpoint moves scores by a tenth of a point.

Checked before anything is written: every output the base graph gives is unchanged on seeded
check inputs, and where the network's checkpoint is at hand, the grafted output agrees with its
``pooled_stages`` (to float16 rounding: a wrong tensor would differ wholly)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np

from app.core.model.contract import INPUT_NAME, OPTIONAL_OUTPUT_RANKS, sha256_file
from models.base import POOLED_STAGES

from .atomic import atomic_path, write_text_atomic

OUTPUT = "pooled_stages"
PROJECTION = re.compile(r"^/model/lda/project\.(\d+)/")
# Check inputs: odd and even sides, smaller and larger than the training crops.
CHECK_SIZES = ((320, 320), (384, 512), (333, 517), (512, 768))
CHECKPOINT_TOLERANCE = 0.02  # of the output's magnitude: float16 weights against the graph's float32


def stage_tensors(graph) -> list[str]:
    """The backbone's stage outputs the LDA projects, in stage order."""
    made_by = {out: node for node in graph.node for out in node.output}
    stages: dict[int, str] = {}
    for node in graph.node:
        match = PROJECTION.match(node.name)
        if match and int(match.group(1)) not in stages:
            source = made_by.get(node.input[0])
            if source is not None and source.name.startswith("/model/backbone/"):
                stages[int(match.group(1))] = node.input[0]
    if not stages or sorted(stages) != list(range(len(stages))):
        raise ValueError("the graph has no LDA projections of backbone stages named as this program exports them")
    return [stages[i] for i in sorted(stages)]


def graft(model):
    """``model`` (an onnx ModelProto) with the ``pooled_stages`` output added; nothing else changes."""
    import onnx
    from onnx import TensorProto, helper

    graph = model.graph
    if any(o.name == OUTPUT for o in graph.output):
        raise ValueError(f"the graph already gives {OUTPUT}")
    axes = f"{OUTPUT}/axes"
    graph.initializer.append(onnx.numpy_helper.from_array(np.array([2, 3], np.int64), axes))
    pooled = []
    for i, tensor in enumerate(stage_tensors(graph)[-POOLED_STAGES:]):
        pooled.append(f"{OUTPUT}/stage{i}")
        graph.node.append(helper.make_node("ReduceMean", [tensor, axes], [pooled[-1]], name=f"/{OUTPUT}/mean{i}",
                                           keepdims=0))
    graph.node.append(helper.make_node("Concat", pooled, [OUTPUT], name=f"/{OUTPUT}/concat", axis=1))
    graph.output.append(helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", None]))
    onnx.checker.check_model(model)
    return model


def _check_inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    for h, w in CHECK_SIZES:
        # A smooth field plus grain: activations like a photo's, not white noise alone.
        yield (rng.normal(0, 0.3, (1, 3, h, w)) + np.linspace(-1.5, 1.5, w)[None, None, None, :]).astype(np.float32)


def check(base_onnx: Path, grafted_onnx: Path, checkpoint: Path | None) -> dict[str, float]:
    """Largest |grafted - base| of each base output (must be 0), and where ``checkpoint`` is given
    the grafted output's largest difference from the network's own, relative to its magnitude;
    raises ValueError past either bound."""
    import onnxruntime as ort

    base = ort.InferenceSession(str(base_onnx), providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(str(grafted_onnx), providers=["CPUExecutionProvider"])
    names = [o.name for o in base.get_outputs()]
    network, own_key = None, None
    if checkpoint is not None:
        import torch

        from models.registry import load_checkpoint

        network, own_key = load_checkpoint(checkpoint)[0].eval(), f"{OUTPUT} against {checkpoint.name}"
    worst = dict.fromkeys(names + ([own_key] if network else []), 0.0)
    for x in _check_inputs():
        before = dict(zip(names, base.run(names, {INPUT_NAME: x})))
        after = dict(zip(names + [OUTPUT], new.run(names + [OUTPUT], {INPUT_NAME: x})))
        for k in names:
            worst[k] = max(worst[k], float(np.abs(after[k] - before[k]).max()))
        if network is not None:
            with torch.no_grad():
                own = network(torch.from_numpy(x))[OUTPUT].numpy()
            if own.shape != after[OUTPUT].shape:
                raise ValueError(f"the grafted {OUTPUT} has shape {after[OUTPUT].shape}, the network's {own.shape}")
            worst[own_key] = max(worst[own_key], float(np.abs(after[OUTPUT] - own).max() / max(1.0, np.abs(own).max())))
    changed = [k for k in names if worst[k] > 0]
    if changed:
        raise ValueError(f"grafting changed the base graph's {', '.join(changed)}")
    if network is not None and worst[own_key] > CHECKPOINT_TOLERANCE:
        raise ValueError(f"the grafted {OUTPUT} is not the network's: it differs by {worst[own_key]:.2g} of its magnitude")
    return worst


def graft_model(base_onnx: Path, card: dict, out: Path, checkpoint: Path | None = None) -> tuple[Path, dict]:
    """Write ``out``/<base's names>: the overview graph with ``pooled_stages``, the detail graph
    and the torch weights beside the base copied, and ``card`` (its hash and outputs set here).
    Returns the new graph's path and the check's differences; raises ValueError, leaving no new
    model, when the check fails."""
    import onnx

    out.mkdir(parents=True, exist_ok=True)
    target = out / base_onnx.name
    with atomic_path(target) as tmp:
        onnx.save(graft(onnx.load(str(base_onnx))), str(tmp))
        differences = check(base_onnx, tmp, checkpoint)
    detail = card.get("detail_model")
    beside = ([detail["onnx_file"]] if detail else []) + [p.name for p in (base_onnx.with_suffix(".pt"),) if p.exists()]
    for name in beside:  # the detail graph scores tiles only; a fine-tune starts from the torch weights
        with atomic_path(out / name) as tmp:
            shutil.copyfile(base_onnx.with_name(name), tmp)
    card = json.loads(json.dumps(card))
    card["sha256"] = sha256_file(target)
    card["outputs"] = dict(card.get("outputs") or {}) | {OUTPUT: f"rank {OPTIONAL_OUTPUT_RANKS[OUTPUT]}"}
    write_text_atomic(target.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    return target, differences
