"""A model exported before graphs gave ``pooled_stages`` gets that output by
``python -m training graft-stages``: a new model whose every score is the old one's, whose new
output is its network's own, and which a station stores for its calibration."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from app.core.model.contract import model_identity, sha256_file  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.scoring.engine import Engine  # noqa: E402
from models import create_model  # noqa: E402
from training.__main__ import main  # noqa: E402
from training.export import export_model  # noqa: E402


def _older_model(folder, seed: int = 0):
    """A student exported as before v0.7.3 (no ``pooled_stages``), its fp32 checkpoint beside."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    model = create_model("student", weights=None).eval()
    onnx_path, card_path = export_model(model, folder / "older", {"version": "1.0.0"})
    graph = onnx.load(str(onnx_path))
    for field in (graph.graph.output, graph.graph.node):  # the output, and the node that joins it
        kept = [x for x in field if "pooled_stages" not in getattr(x, "output", [x.name])]
        del field[:]
        field.extend(kept)
    onnx.save(graph, str(onnx_path))
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(onnx_path)
    del card["outputs"]["pooled_stages"]
    card_path.write_text(json.dumps(card))
    torch.save({"config": model.config.to_dict(), "model": model.state_dict()}, onnx_path.with_suffix(".pt"))
    return model, onnx_path


def test_an_older_model_gets_pooled_stages_and_keeps_every_score(tmp_path, capsys):
    network, older = _older_model(tmp_path)
    assert "pooled_stages" not in {o.name for o in load_model(older).session.get_outputs()}
    assert main(["graft-stages", "--model", str(older), "--version", "1.0.1", "--out", str(tmp_path / "new")]) == 0
    new = load_model(tmp_path / "new" / "older.onnx")
    assert new.card["version"] == "1.0.1" and new.card["lineage"].startswith("v1.0.1: v1.0.0's graphs")
    assert new.card["outputs"]["pooled_stages"] == "rank 2" and "graft-stages" in new.card["commands"][-1]
    assert model_identity(new.card) != model_identity(load_model(older).card)  # a new model for the station
    # whose card says whose scores it gives, so a site's thresholds and calibration carry over
    assert new.card["same_scores_as"]["identity"] == model_identity(load_model(older).card)
    assert new.card["same_scores_as"]["version"] == "1.0.0"
    assert (tmp_path / "new" / "older.pt").is_file()  # a fine-tune of the new model starts from it

    photo = np.random.default_rng(0).integers(0, 256, (300, 420, 3), np.uint8)
    before, after = Engine(load_model(older)).score(photo), Engine(new).score(photo)
    assert after.score == before.score and np.array_equal(after.embedding, before.embedding)
    assert before.pooled_stages is None
    x = torch.from_numpy(Engine(new).preprocess(photo))
    with torch.no_grad():
        own = network(x)["pooled_stages"][0].numpy()
    assert after.pooled_stages.shape == own.shape == (432,)
    assert np.allclose(after.pooled_stages, own, rtol=2e-3, atol=2e-3)  # half floats, as stored
    assert "score                                    0" in capsys.readouterr().out


def test_the_checkpoint_of_another_network_is_refused_and_nothing_is_written(tmp_path):
    _, older = _older_model(tmp_path / "a", seed=0)
    (tmp_path / "b").mkdir()
    _, other = _older_model(tmp_path / "b", seed=1)
    out = tmp_path / "new"
    with pytest.raises(SystemExit, match="is not the network's"):
        main(["graft-stages", "--model", str(older), "--checkpoint", str(other.with_suffix(".pt")),
              "--version", "1.0.1", "--out", str(out)])
    assert not list(out.glob("*.onnx")) and not list(out.glob("*.json"))
    with pytest.raises(SystemExit, match="no such checkpoint"):
        main(["graft-stages", "--model", str(older), "--checkpoint", str(tmp_path / "missing.pt"),
              "--version", "1.0.1", "--out", str(out)])


def test_a_graph_that_already_gives_pooled_stages_is_left_alone(tmp_path, exported_student):
    _, onnx_path, _ = exported_student
    with pytest.raises(SystemExit, match="already gives pooled_stages"):
        main(["graft-stages", "--model", str(onnx_path), "--version", "9.9.9", "--out", str(tmp_path / "new")])
