"""The app refuses a bad model with a message that names the problem."""
import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from app.core.model.contract import ModelError, sha256_file
from app.core.model.loader import load_model


@pytest.fixture
def model_copy(exported_student, tmp_path):
    _, onnx_path, card_path = exported_student
    dst = tmp_path / "m"
    dst.mkdir()
    shutil.copy(onnx_path, dst / onnx_path.name)
    shutil.copy(card_path, dst / card_path.name)
    return dst / onnx_path.name, dst / card_path.name


def test_a_good_model_loads_from_folder_onnx_or_card(model_copy):
    onnx_path, card_path = model_copy
    for path in (onnx_path.parent, onnx_path, card_path):
        assert load_model(path).card["name"] == "tiny"


def test_tampered_onnx_is_refused(model_copy):
    onnx_path, _ = model_copy
    data = bytearray(onnx_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    onnx_path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(onnx_path)


def test_truncated_onnx_is_refused(model_copy):
    onnx_path, card_path = model_copy
    onnx_path.write_bytes(onnx_path.read_bytes()[:1000])
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(onnx_path)  # even with a matching hash it is no model
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        load_model(onnx_path)


def test_missing_card_is_refused(model_copy):
    onnx_path, card_path = model_copy
    card_path.unlink()
    with pytest.raises(ModelError, match="model card tiny.json is missing"):
        load_model(onnx_path)


def test_missing_onnx_is_refused(model_copy):
    onnx_path, card_path = model_copy
    onnx_path.unlink()
    with pytest.raises(ModelError, match="model file tiny.onnx is missing"):
        load_model(card_path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c.pop("sha256"), "missing field"),
        (lambda c: c.update(format="something-else"), "format"),
        (lambda c: c["input"].update(std=[0.5, 0.0, 0.5]), "std must be positive"),
        (lambda c: c["input"].update(mean=[0.5]), "mean must be three numbers"),
        (lambda c: c.update(reading=[512]), "'reading' must be an object"),
        (lambda c: c.update(reading={"overview_side": 0}), "overview_side must be a positive integer"),
        (lambda c: c.update(reading={"detail_weight": 1.5}), "detail_weight must be a number from 0 to 1"),
    ],
)
def test_broken_card_is_refused(model_copy, edit, message):
    _, card_path = model_copy
    card = json.loads(card_path.read_text())
    edit(card)
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=message):
        load_model(card_path)


def test_unparseable_card_is_refused(model_copy):
    _, card_path = model_copy
    card_path.write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        load_model(card_path)


def _write_onnx(path, inputs, outputs):
    """A tiny valid ONNX graph with the given (name, shape) inputs and outputs."""
    nodes = [helper.make_node("Identity", [inputs[0][0]], [outputs[0][0]])]
    for name, shape in outputs[1:]:
        const = helper.make_tensor(name + "_v", TensorProto.FLOAT, [1] * len(shape), [0.0])
        nodes.append(helper.make_node("Constant", [], [name], value=const))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)


@pytest.mark.parametrize(
    "inputs, outputs, message",
    [
        ([("pixels", [1, 3, "h", "w"])], [("score", [1, 3, "h", "w"])], "one input named 'image'"),
        ([("image", [1, 3, 224, 224])], [("score", [1, 3, 224, 224])], "must be dynamic"),
        ([("image", [1, 3, "h", "w"])], [("score", [1, 3, "h", "w"])], "missing output"),
    ],
)
def test_wrong_signature_is_refused(model_copy, inputs, outputs, message):
    onnx_path, card_path = model_copy
    _write_onnx(onnx_path, inputs, outputs)
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(onnx_path)
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=message):
        load_model(onnx_path)


def test_wrong_output_rank_is_refused(model_copy):
    onnx_path, card_path = model_copy
    outs = [("score", [1, 3, "h", "w"]), ("opinions", [1, 3]), ("attention", [1, 3, 4, 4]),
            ("distortion", [1, 1, 4, 4]), ("embedding", [1, 8])]
    _write_onnx(onnx_path, [("image", [1, 3, "h", "w"])], outs)
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(onnx_path)
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="output 'score' has rank 4"):
        load_model(onnx_path)


def test_a_folder_with_two_cards_asks_which(model_copy):
    onnx_path, card_path = model_copy
    shutil.copy(card_path, card_path.with_name("other.json"))
    with pytest.raises(ModelError, match="several model cards"):
        load_model(onnx_path.parent)
    np.testing.assert_equal(load_model(onnx_path).card["name"], "tiny")
