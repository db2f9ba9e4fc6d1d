import json
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
import torch

from app.core.model.contract import OPTIONAL_OUTPUT_RANKS, OUTPUT_RANKS, sha256_file
from app.core.model.loader import load_model
from models import CONTRACT_OUTPUTS
from training.export import parity


def test_export_writes_a_contract_valid_model(exported_student):
    _, onnx_path, card_path = exported_student
    loaded = load_model(onnx_path)
    card = json.loads(card_path.read_text())
    assert card["sha256"] == sha256_file(onnx_path)
    assert card["views"] == 3 and card["stride"] == 16
    assert card["input"]["mean"] == [0.5, 0.5, 0.5]
    inp = loaded.session.get_inputs()[0]
    assert inp.name == "image" and isinstance(inp.shape[2], str) and isinstance(inp.shape[3], str)
    assert [o.name for o in loaded.session.get_outputs()] == list(CONTRACT_OUTPUTS)
    ranks = {o.name: len(o.shape) for o in loaded.session.get_outputs()}
    optional = ("fusion_weights", "pooled_stages")  # no damage head
    assert ranks == OUTPUT_RANKS | {k: OPTIONAL_OUTPUT_RANKS[k] for k in optional}
    assert card["outputs"] == {k: f"rank {r}" for k, r in ranks.items()}


def test_onnx_runtime_matches_torch_at_two_sizes(exported_student):
    model, onnx_path, _ = exported_student
    worst = parity(model, onnx_path, [(240, 320), (301, 187)])
    assert worst["score"] < 1e-3
    for key in ("opinions", "attention", "distortion", "embedding", "pooled_stages"):
        assert worst[key] < 1e-3, (key, worst[key])


def test_one_export_serves_any_input_size(exported_student):
    _, onnx_path, _ = exported_student
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    for h, w in [(64, 64), (500, 500), (123, 457)]:
        out = dict(zip(CONTRACT_OUTPUTS, session.run(None, {"image": np.zeros((1, 3, h, w), np.float32)})))
        assert out["attention"].shape[-2:] == (-(-h // 16), -(-w // 16))


@pytest.mark.slow
def test_export_cli_with_a_fresh_config(tmp_path):
    out = tmp_path / "fresh"
    result = subprocess.run(
        [sys.executable, "-m", "training", "export", "--config", "student", "--no-pretrained", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_model(out.with_suffix(".onnx")).card["name"] == "fresh"


def test_export_cli_from_a_checkpoint(tmp_path):
    from models import create_model

    torch.manual_seed(1)
    model = create_model("student", weights=None)
    ckpt = tmp_path / "student.pt"
    info = {"version": "1.2.3", "metrics": {"val_srcc": 0.5}, "training": {"data": "fixture"}}
    torch.save({"config": model.config.to_dict(), "model": model.state_dict(), "card_info": info}, ckpt)
    from training.__main__ import main

    assert main(["export", "--checkpoint", str(ckpt), "--out", str(tmp_path / "from_ckpt")]) == 0
    card = load_model(tmp_path / "from_ckpt.json").card
    assert card["version"] == "1.2.3" and card["metrics"] == {"val_srcc": 0.5}


def test_card_extras_are_added_but_cannot_touch_the_contract(tmp_path):
    from models import create_model
    from training.export import export_model

    torch.manual_seed(2)
    model = create_model("student", weights=None)
    _, card_path = export_model(model, tmp_path / "m", {"version": "2.0"}, {"commands": ["python -m training ..."]})
    card = json.loads(card_path.read_text())
    assert card["commands"] == ["python -m training ..."] and card["version"] == "2.0"
    with pytest.raises(ValueError, match="sha256"):
        export_model(model, tmp_path / "n", None, {"sha256": "0" * 64})


def test_annotate_adds_evaluations_and_keeps_the_model_loadable(tmp_path):
    from models import create_model
    from training.__main__ import main
    from training.export import export_model

    torch.manual_seed(3)
    _, card_path = export_model(create_model("student", weights=None), tmp_path / "m")
    (tmp_path / "val.json").write_text(json.dumps({"srcc": 0.8}))
    (tmp_path / "notes.json").write_text(json.dumps({"credits": "LIVEC"}))
    args = ["annotate", "--card", str(card_path), "--field", f"evaluation={tmp_path / 'val.json'}", "--merge", str(tmp_path / "notes.json")]
    assert main(args) == 0
    card = load_model(card_path).card
    assert card["evaluation"] == {"srcc": 0.8} and card["credits"] == "LIVEC"
    (tmp_path / "bad.json").write_text(json.dumps({"sha256": "0" * 64}))
    with pytest.raises(ValueError, match="cannot be changed"):
        main(["annotate", "--card", str(card_path), "--merge", str(tmp_path / "bad.json")])


def test_slim_weights_reload_close_to_the_original(tmp_path):
    from models import create_model, load_checkpoint
    from training.export import save_slim_weights

    torch.manual_seed(4)
    model = create_model("student", weights=None).eval()
    path = save_slim_weights(model, tmp_path / "m.pt")
    again, _ = load_checkpoint(path)
    x = torch.randn(1, 3, 96, 128)
    with torch.no_grad():
        assert abs(float(model(x)["score"][0]) - float(again.eval()(x)["score"][0])) < 0.05
