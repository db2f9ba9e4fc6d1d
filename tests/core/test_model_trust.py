"""A station runs the models it ships, fine-tuned or approved, and nothing else; a model's output
that is no score is a model error, never a stored score with a verdict."""
import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper
from PIL import Image

from app.__main__ import main
from app.core import model_trust
from app.core.batch import score_batch
from app.core.model_contract import sha256_file
from app.core.model_trust import UntrustedModel
from app.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_default_model_is_the_one_the_trust_anchor_names():
    card = json.loads((REPO / "resources" / "models" / "mobileiqa-student.json").read_text())
    main_sha, detail_sha = model_trust.graph_hashes(card)
    assert model_trust.SHIPPED.get(main_sha, "absent") == detail_sha, \
        "resources/models changed: put its graphs' sha256 in app/core/model_trust.SHIPPED"
    assert sha256_file(REPO / "resources" / "models" / card["onnx_file"]) == main_sha


def _swap_graph(model_dir: Path, edit) -> Path:
    """A copy of a model whose graph was changed by ``edit`` and whose card was edited to match:
    whole and loadable, still named as before."""
    card_path = next(model_dir.glob("*.json"))
    card = json.loads(card_path.read_text())
    onnx_path = model_dir / card["onnx_file"]
    graph = onnx.load(onnx_path)
    edit(graph)
    onnx.save(graph, onnx_path)
    card["sha256"] = sha256_file(onnx_path)
    card_path.write_text(json.dumps(card))
    return card_path


def _score_plus(constant: float):
    """An edit that adds ``constant`` to the model's score output (NaN makes it NaN)."""
    def edit(model):
        g = model.graph
        node = next(n for n in g.node if "score" in n.output)
        node.output[list(node.output).index("score")] = "score_before_edit"
        g.initializer.append(numpy_helper.from_array(np.array([constant], np.float32), "edit_constant"))
        g.node.append(helper.make_node("Add", ["score_before_edit", "edit_constant"], ["score"]))
    return edit


@pytest.fixture
def tampered(exported_student, tmp_path):
    folder = tmp_path / "tampered"
    folder.mkdir()
    for f in (exported_student[1], exported_student[2]):
        shutil.copy(f, folder / f.name)
    return _swap_graph(folder, _score_plus(0.5))


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_a_changed_graph_with_an_edited_card_is_refused_until_someone_approves_it(tampered, tmp_path):
    ws = Workspace(tmp_path / "station.db")
    try:
        with pytest.raises(UntrustedModel, match="not a model this program ships"):
            ws.load_model(tampered)
        assert ws.model is None
        ws.load_model(tampered, approved_by="supervisor anna")
        ws.load_model(tampered)  # approved once: runs from now on
    finally:
        ws.close()
    with sqlite3.connect(tmp_path / "station.db") as c:
        assert c.execute("select origin, approved_by from model_versions").fetchall() == [("approved", "supervisor anna")]


def test_the_command_line_refuses_an_unknown_model_and_runs_it_with_trust_model(tampered, photos, tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["--model", str(tampered), "score", str(photos), "--db", str(db)]) == 2
    assert "--trust-model" in capsys.readouterr().err
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from scores").fetchone()[0] == 0
    assert main(["--model", str(tampered), "score", str(photos), "--db", str(db), "--trust-model"]) == 0
    assert "approved by" in capsys.readouterr().err
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from scores where status = 'ok'").fetchone()[0] == 2
        assert c.execute("select approved_by from model_versions").fetchone()[0].endswith("(--trust-model)")


def test_an_approved_model_with_another_detail_graph_is_not_trusted(exported_student, tmp_path):
    from training.export import attach_detail_graph

    folder = tmp_path / "two_graphs"
    folder.mkdir()
    for f in (exported_student[1], exported_student[2]):
        shutil.copy(f, folder / f.name)
    card_path = folder / exported_student[2].name
    source = tmp_path / "detail.onnx"
    shutil.copy(exported_student[1], source)
    detail = folder / attach_detail_graph(card_path, source, {})["detail_model"]["onnx_file"]
    ws = Workspace(tmp_path / "station.db")
    try:
        ws.load_model(card_path, approved_by="anna")
        graph = onnx.load(detail)
        _score_plus(0.25)(graph)
        onnx.save(graph, detail)
        card = json.loads(card_path.read_text())
        card["detail_model"]["sha256"] = sha256_file(detail)
        card_path.write_text(json.dumps(card))
        with pytest.raises(UntrustedModel):
            ws.load_model(card_path)
    finally:
        ws.close()


@pytest.mark.parametrize("constant", [250.0, float("nan")], ids=["out_of_range", "nan"])
def test_a_model_whose_output_is_no_score_gets_model_error_and_no_verdict(exported_student, photos, tmp_path, constant):
    folder = tmp_path / "broken_model"
    folder.mkdir()
    for f in (exported_student[1], exported_student[2]):
        shutil.copy(f, folder / f.name)
    card_path = _swap_graph(folder, _score_plus(constant))
    db = tmp_path / "cli.db"
    report = tmp_path / "report.html"
    code = main(["--model", str(card_path), "score", str(photos), "--db", str(db), "--trust-model",
                 "--report", str(report)])
    assert code == 4  # the model failed on every photo: not a success
    with sqlite3.connect(db) as c:
        rows = c.execute("select status, score, verdict from scores").fetchall()
    assert rows == [("model_error", None, None)] * 2
    assert report.exists()


def test_a_version_fine_tuned_at_the_station_is_trusted_there(exported_student, tmp_path):
    from app.core.store import open_database
    from app.core.store.repository import register_model

    folder = tmp_path / "site_version"
    folder.mkdir()
    for f in (exported_student[1], exported_student[2]):
        shutil.copy(f, folder / f.name)
    card_path = _swap_graph(folder, _score_plus(0.1))
    card = json.loads(card_path.read_text())
    db = open_database(tmp_path / "station.db")
    register_model(db, card, str(card_path), origin="fine-tuned", approved_by="fine-tune of tiny")
    db.close()
    ws = Workspace(tmp_path / "station.db")
    try:
        assert ws.load_model(card_path).card["sha256"] == card["sha256"]
    finally:
        ws.close()


def test_score_rows_name_the_exact_model_hash(exported_student, photos, tmp_path):
    ws = Workspace(tmp_path / "station.db")
    try:
        ws.load_model(exported_student[1])
        score_batch(sorted(photos.iterdir()), ws.engine, ws.db, ws.model_version_id)
        assert {r["model_sha256"] for r in ws.rows()} == {ws.model.card["sha256"]}
    finally:
        ws.close()
