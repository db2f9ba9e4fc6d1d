"""A tiny model that honours the model contract, built by hand with onnx.helper.

The fault suite scores tens of thousands of files; the shipped model would cost ~0.1 s each,
this graph costs microseconds, and torch is not needed to make it. Variants misbehave on
purpose (NaN score, a score of 250, a graph that fails on every input) so the app's handling
of a broken model is exercised too.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

VARIANTS = ("ok", "nan", "range250", "fail")


def _graph(variant: str):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def const(name, value, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)

    inits = [const("k", 20.0), const("b", 50.0), const("shape1", [1], np.int64),
             const("shape13", [1, 3], np.int64), const("w_mean", np.full((1, 3, 1, 1), 1 / 3))]
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),          # [1,3,1,1]
        helper.make_node("Reshape", ["pooled", "shape13"], ["embedding"]),      # [1,3]
        helper.make_node("Mul", ["embedding", "k"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["opinions"]),                 # [1,3], about 30..70
        helper.make_node("ReduceMean", ["opinions"], ["mean"], keepdims=0),     # scalar
        helper.make_node("AveragePool", ["image"], ["cells"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Sigmoid", ["cells"], ["attention"]),                  # [1,3,h,w]
        # A channel mean by a 1x1 convolution: [1,1,h,w], the damage map's shape.
        helper.make_node("Conv", ["attention", "w_mean"], ["distortion"], kernel_shape=[1, 1]),
    ]
    if variant == "ok":
        nodes.append(helper.make_node("Reshape", ["mean", "shape1"], ["score"]))
    elif variant in ("nan", "range250"):
        # The score is "mean * 0 + bad": the input still flows through, the value is the fault.
        inits += [const("zero", 0.0), const("bad", np.nan if variant == "nan" else 250.0)]
        nodes += [helper.make_node("Mul", ["mean", "zero"], ["nil"]),
                  helper.make_node("Add", ["nil", "bad"], ["bad_score"]),
                  helper.make_node("Reshape", ["bad_score", "shape1"], ["score"])]
    elif variant == "fail":
        # Reshaping the whole photo to 7x7 fails at run time for every real photo size, while
        # the graph's signature stays the contract's (so the loader accepts it).
        inits.append(const("shape_bad", [1, 3, 7, 7], np.int64))
        nodes += [helper.make_node("Reshape", ["image", "shape_bad"], ["squeezed"]),
                  helper.make_node("ReduceMean", ["squeezed"], ["m2"], keepdims=0),
                  helper.make_node("Add", ["m2", "mean"], ["m3"]),
                  helper.make_node("Reshape", ["m3", "shape1"], ["score"])]
    else:
        raise ValueError(f"unknown variant {variant!r}")
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, f"fault-suite-{variant}",
        [helper.make_tensor_value_info("image", f, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("score", f, [1]),
         helper.make_tensor_value_info("opinions", f, [1, 3]),
         helper.make_tensor_value_info("attention", f, [1, 3, "h", "w"]),
         helper.make_tensor_value_info("distortion", f, [1, 1, "h", "w"]),
         helper.make_tensor_value_info("embedding", f, [1, 3])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="fault-suite")
    model.ir_version = 8  # readable by any onnxruntime the app supports
    onnx.checker.check_model(model)
    return model.SerializeToString()


def card_for(name: str, onnx_file: str, sha256: str) -> dict:
    """Every field the contract requires; nothing here claims to be the shipped model."""
    norm = {"name": "image", "layout": "NCHW", "color": "RGB", "scale": 1 / 255,
            "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "min_side": 33}
    return {
        "format": "mobileiqa-model/1", "name": name, "version": "0.0.1", "created": "2026-01-01T00:00:00+00:00",
        "backbone": "none (hand-built test graph)", "views": 3, "input": norm, "stride": 16,
        "score_range": [0.0, 100.0], "distortion_map": "damage: 0 = clean, 1 = badly damaged (higher is worse)",
        "training": {"data": "none", "recipe": "tests/faults/tinymodel.py"}, "metrics": {},
        "onnx_file": onnx_file, "sha256": sha256,
        "reading": {"overview_side": 512, "detail_tile": 320, "detail_tiles": 4, "detail_weight": 0.0},
    }


def write_tiny_model(folder: Path, variant: str = "ok") -> Path:
    """Write ``fault-tiny-VARIANT.onnx`` and its card into ``folder`` (its own sub-folder, so a
    folder holds one card); return the card's path."""
    folder = Path(folder) / f"tiny-{variant}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"fault-tiny-{variant}"
    data = _graph(variant)
    onnx_path = folder / f"{name}.onnx"
    onnx_path.write_bytes(data)
    card = card_for(name, onnx_path.name, hashlib.sha256(data).hexdigest())
    card_path = onnx_path.with_suffix(".json")
    card_path.write_text(json.dumps(card, indent=1))
    return card_path
