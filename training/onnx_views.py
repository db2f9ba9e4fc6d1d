"""Retrain a shipped graph's views (MAL and fusion) when only its ONNX file is left.

The detail network of v0.3/v0.4 exists only as ONNX (its training checkpoint was never kept).
Its views and fusion are small (~37 k weights) and sit at the graph's end: the grid they read
(the LDA features) is exposed as an extra output to build a cache, the views are rebuilt in torch
from the graph's weights (each convolution came out of the export with its batch norm folded in,
so the norm starts as the identity), retrained, folded back and written into a copy of the graph.
Everything before the views (backbone, LDA, the damage head) stays bit for bit as it was.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from models.configs import IQAConfig
from models.mal import LightMAL, OpinionFusion

PREFIX = "model."  # the export wraps the network as ``model`` (training.export.ContractWrapper)


def _initializers(graph) -> dict[str, onnx.TensorProto]:
    return {t.name: t for t in graph.initializer}


def _weight(graph, name: str) -> torch.Tensor:
    """A weight by name: an initializer, a Constant node's value, or either behind Identity nodes
    (an export shares equal folded biases that way)."""
    inits = _initializers(graph)
    while name not in inits:
        node = next((n for n in graph.node if name in n.output), None)
        if node is None:
            raise ValueError(f"the graph holds no weight named {name!r}")
        if node.op_type == "Constant":
            return torch.from_numpy(numpy_helper.to_array(node.attribute[0].t).copy())
        if node.op_type != "Identity":
            raise ValueError(f"{name!r} is computed by a {node.op_type} node, not a weight")
        name = node.input[0]
    return torch.from_numpy(numpy_helper.to_array(inits[name]).copy())


def _prune(graph) -> None:
    """Drop the weights and Identity/Constant nodes nothing reads any more."""
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if n.op_type in ("Identity", "Constant") and n.output[0] not in used]
        for n in dead:
            graph.node.remove(n)
        unused = [t for t in graph.initializer if t.name not in used]
        for t in unused:
            graph.initializer.remove(t)
        if not dead and not unused:
            return


def _node(graph, name: str):
    for node in graph.node:
        if node.name == name:
            return node
    raise ValueError(f"the graph has no node {name!r}: not a light-MAL network exported by training.export")


def grid_tensor(graph) -> str:
    """The name of the tensor the views read: the LDA grid (cropped to the photo's cells)."""
    return _node(graph, "/model/mal/views.0/Mul").input[0]


def with_grid_output(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` that also outputs the LDA grid, as ``grid``."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    copy.graph.node.append(onnx.helper.make_node("Identity", [grid_tensor(copy.graph)], ["grid"]))
    copy.graph.output.append(onnx.helper.make_tensor_value_info("grid", onnx.TensorProto.FLOAT, None))
    return copy


def _local_convs(view: int) -> list[tuple[str, int, int]]:
    """(graph node, torch conv index, torch norm index) of a view's two folded convolutions."""
    return [(f"/model/mal/views.{view}/local/local.{conv}/Conv", conv, conv + 1) for conv in (0, 2)]


class ViewsHead(nn.Module):
    """The views and fusion of a light-MAL network, reading its LDA grid: score [B] on 0-100."""

    def __init__(self, config: IQAConfig):
        super().__init__()
        self.config = config
        self.mal = LightMAL(config.width, config.view_width, config.views)
        self.fusion = OpinionFusion(config.width, config.views)

    def forward(self, grid: torch.Tensor) -> dict[str, torch.Tensor]:
        views = self.mal(grid)
        fused, weights = self.fusion(grid.mean(dim=(2, 3)), views.opinions)
        return {"score": 100.0 * fused, "opinions": 100.0 * views.opinions, "attention": views.attention,
                "fusion_weights": weights}

    def train(self, mode: bool = True):
        # The norms stand for the folded ones of the graph: their statistics never move.
        super().train(mode)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self


def views_from_onnx(model: onnx.ModelProto, config: IQAConfig) -> ViewsHead:
    """The graph's views and fusion as a torch module that computes exactly what the graph does."""
    graph = model.graph
    weights = {name: torch.from_numpy(numpy_helper.to_array(t).copy()) for name, t in _initializers(graph).items()}
    head = ViewsHead(config)
    state = head.state_dict()
    for key in state:
        if PREFIX + key in weights:
            state[key] = weights[PREFIX + key]
    for v in range(config.views):
        for node_name, conv, norm in _local_convs(v):
            node = _node(graph, node_name)
            state[f"mal.views.{v}.local.{conv}.weight"] = _weight(graph, node.input[1])
            bn = f"mal.views.{v}.local.{norm}"
            eps = head.mal.views[v].local[norm].eps
            state[f"{bn}.weight"] = torch.ones_like(state[f"{bn}.weight"])
            state[f"{bn}.bias"] = _weight(graph, node.input[2])
            state[f"{bn}.running_mean"] = torch.zeros_like(state[f"{bn}.running_mean"])
            state[f"{bn}.running_var"] = torch.full_like(state[f"{bn}.running_var"], 1.0 - eps)
    head.load_state_dict(state)
    return head


def write_views(model: onnx.ModelProto, head: ViewsHead) -> onnx.ModelProto:
    """A copy of ``model`` whose views and fusion carry ``head``'s weights (norms folded in)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    inits = _initializers(copy.graph)

    def put(node, slot: int, value: torch.Tensor) -> None:
        """Give ``node`` its own new weight in input ``slot`` (the old one may be shared)."""
        array = value.detach().cpu().numpy().astype(np.float32)
        old = _weight(copy.graph, node.input[slot])
        if tuple(old.shape) != array.shape:
            raise ValueError(f"{node.name}: the graph holds {tuple(old.shape)}, the head {array.shape}")
        name = f"{node.name}/retrained_{slot}"
        copy.graph.initializer.append(numpy_helper.from_array(array, name))
        node.input[slot] = name

    state = head.state_dict()
    for key, value in state.items():
        if PREFIX + key in inits:
            inits[PREFIX + key].CopyFrom(numpy_helper.from_array(value.detach().cpu().numpy().astype(np.float32),
                                                                 PREFIX + key))
    for v in range(head.config.views):
        local = head.mal.views[v].local
        for node_name, conv, norm in _local_convs(v):
            node = _node(copy.graph, node_name)
            bn = local[norm]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            put(node, 1, local[conv].weight * scale[:, None, None, None])
            put(node, 2, bn.bias - bn.running_mean * scale)
    _prune(copy.graph)
    return copy


def graph_card(onnx_path: Path) -> dict:
    """The card of a graph: beside it under its own name, or the card of the model whose detail
    graph it is (a detail graph has no card of its own)."""
    import json

    own = onnx_path.with_suffix(".json")
    if own.exists():
        return json.loads(own.read_text())
    for path in sorted(onnx_path.parent.glob("*.json")):
        card = json.loads(path.read_text())
        if isinstance(card, dict) and (card.get("detail_model") or {}).get("onnx_file") == onnx_path.name:
            return card
    raise ValueError(f"no card names {onnx_path.name} (beside it, as its own or as a model's detail graph)")


def load_graph(path: Path) -> onnx.ModelProto:
    return onnx.load(str(path), load_external_data=False)
