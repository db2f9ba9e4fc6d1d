"""A card may give the detail reader its own network: verified like the main one, and used for
native tiles and maps while the overview keeps the main network."""
import json

import numpy as np
import pytest

from app.core.scoring.engine import Engine
from app.core.model.contract import ModelError
from app.core.model.loader import load_model
from app.core.scoring.native_maps import native_damage, native_maps, tiled_maps
from app.core.scoring.overlay import upsample


@pytest.fixture(scope="module")
def two_graph_model(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from models import create_model
    from training.export import export_model

    torch.manual_seed(0)
    main = create_model("student", weights=None).eval()
    torch.manual_seed(1)
    detail = create_model("student", weights=None).eval()
    out = tmp_path_factory.mktemp("two") / "pair"
    extra = {"reading": {"overview_side": 128, "detail_tile": 96, "detail_tiles": 4, "detail_weight": 0.5}}
    onnx_path, card_path = export_model(main, out, extra=extra, detail=detail)
    return onnx_path, card_path


def test_the_detail_reader_runs_its_own_network(two_graph_model):
    import onnxruntime as ort

    onnx_path, card_path = two_graph_model
    model = load_model(onnx_path)
    assert model.detail_session is not None
    engine = Engine(model)
    rgb = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    result = engine.score(rgb)
    detail_file = onnx_path.with_name(json.loads(card_path.read_text())["detail_model"]["onnx_file"])
    own = ort.InferenceSession(str(detail_file), providers=["CPUExecutionProvider"])
    from app.core.scoring.reading import detail_boxes

    tiles = [rgb[t:t + h, l:l + w] for t, l, h, w in detail_boxes(200, 300, 96, 4)]
    expected = np.mean([own.run(["score"], {"image": engine.preprocess(t)})[0][0] for t in tiles])
    assert result.detail_score == pytest.approx(float(expected), abs=1e-3)
    assert result.score == pytest.approx(0.5 * result.overview_score + 0.5 * result.detail_score, abs=1e-3)
    assert not np.allclose(native_damage(engine, rgb), engine.run(rgb)["distortion"][0, 0])


def test_a_tampered_detail_graph_is_refused(two_graph_model, tmp_path):
    import shutil

    onnx_path, card_path = two_graph_model
    for f in onnx_path.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    card = json.loads((tmp_path / card_path.name).read_text())
    detail = tmp_path / card["detail_model"]["onnx_file"]
    detail.write_bytes(detail.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="sha256 does not match"):
        load_model(tmp_path / onnx_path.name)
    detail.unlink()
    with pytest.raises(ModelError, match="is missing"):
        load_model(tmp_path / onnx_path.name)



def test_the_same_overview_with_another_detail_network_is_another_model(two_graph_model, tmp_path):
    """A station keys its model versions (and their scores) on the main graph's hash: a release
    that keeps the overview and changes the detail network must not look like the old model."""
    torch = pytest.importorskip("torch")
    from models import create_model
    from training.export import export_model

    onnx_path, card_path = two_graph_model
    card = json.loads(card_path.read_text())
    torch.manual_seed(0)
    same_main = create_model("student", weights=None).eval()
    torch.manual_seed(2)
    other_detail = create_model("student", weights=None).eval()
    new_onnx, new_card_path = export_model(same_main, tmp_path / "pair", extra={"reading": card["reading"]},
                                           detail=other_detail)
    new_card = json.loads(new_card_path.read_text())
    assert new_card["detail_model"]["sha256"] != card["detail_model"]["sha256"]
    assert new_card["sha256"] != card["sha256"]
    # The old detail graph behind the new main graph, its card edited to match, is refused.
    old_detail = onnx_path.with_name(card["detail_model"]["onnx_file"])
    (tmp_path / new_card["detail_model"]["onnx_file"]).write_bytes(old_detail.read_bytes())
    new_card["detail_model"]["sha256"] = card["detail_model"]["sha256"]
    new_card_path.write_text(json.dumps(new_card))
    with pytest.raises(ModelError, match="not the detail graph"):
        load_model(new_onnx)

def test_a_fine_tuned_version_keeps_its_base_models_detail_reader(two_graph_model, tmp_path):
    """A site fine-tune refines the overview network; the detail graph travels with it."""
    import torch

    from models import create_model
    from training.export import attach_detail_graph, export_model

    onnx_path, card_path = two_graph_model
    base = json.loads(card_path.read_text())
    torch.manual_seed(2)
    new_onnx, new_card = export_model(create_model("student", weights=None).eval(), tmp_path / "site",
                                      extra={"reading": base["reading"]})
    attach_detail_graph(new_card, onnx_path.with_name(base["detail_model"]["onnx_file"]), base["detail_model"])
    model = load_model(new_onnx)
    assert model.detail_session is not None and model.card["reading"] == base["reading"]
    assert model.card["detail_model"]["sha256"] == base["detail_model"]["sha256"]


@pytest.fixture(scope="module")
def detail_with_damage_head(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from models import create_model, get_config
    from training.export import export_model, parity

    torch.manual_seed(0)
    main = create_model("student", weights=None).eval()
    detail = create_model(get_config("student").with_(damage_head=16), weights=None).eval()
    out = tmp_path_factory.mktemp("damage") / "pair"
    extra = {"reading": {"overview_side": 128, "detail_tile": 96, "detail_tiles": 4, "detail_weight": 0.5}}
    onnx_path, _ = export_model(main, out, extra=extra, detail=detail)
    worst = parity(detail, onnx_path.with_name("pair-detail.onnx"), [(96, 128), (161, 97)])
    assert worst["damage"] < 1e-4
    return onnx_path


def test_a_detail_network_with_a_damage_head_draws_the_plain_map_and_scores_from_its_own(detail_with_damage_head):
    engine = Engine(load_model(detail_with_damage_head))
    assert "damage" in engine.outputs("detail") and "damage" not in engine.outputs("overview")
    rgb = np.random.default_rng(1).integers(0, 256, (300, 420, 3), dtype=np.uint8)
    result = engine.score(rgb)
    maps = native_maps(engine, rgb, result, tile=256)
    both = tiled_maps(engine, rgb, ("damage", "distortion"), tile=256)
    assert np.array_equal(maps.tiles, both["damage"])  # the plain map is the head's
    assert np.array_equal(native_damage(engine, rgb, tile=256), both["damage"])
    assert not np.allclose(both["damage"], both["distortion"], atol=1e-3)
    whole = upsample(result.distortion, *both["distortion"].shape, result.cell / engine.stride)
    # ... while the damage the score counts is still made of the score's own maps.
    assert np.allclose(maps.in_score, 0.5 * whole + 0.5 * both["distortion"], rtol=0, atol=1e-6)
