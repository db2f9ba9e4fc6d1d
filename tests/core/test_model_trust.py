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

from app.__main__ import main
from app.core.model import trust as model_trust
from app.core.scoring.photo import score_batch
from app.core.model.contract import model_identity, sha256_file
from app.core.model.trust import UntrustedModel
from app.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_default_model_is_the_one_the_trust_anchor_names():
    card = json.loads((REPO / "resources" / "models" / "mobileiqa-student.json").read_text())
    assert model_identity(card) in model_trust.SHIPPED, \
        "resources/models changed: put model_contract.model_identity(card) in app/core/model_trust.SHIPPED"
    assert sha256_file(REPO / "resources" / "models" / card["onnx_file"]) == card["sha256"]


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
def photos(tmp_path, make_photos):
    make_photos(tmp_path / "photos", 2, (80, 96))
    return tmp_path / "photos"


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
        assert {r["model_sha256"] for r in ws.rows()} == {model_identity(ws.model.card)}
    finally:
        ws.close()


def _copy_model(exported_student, folder: Path) -> Path:
    folder.mkdir()
    for f in (exported_student[1], exported_student[2]):
        shutil.copy(f, folder / f.name)
    return folder / exported_student[2].name


def _edit_card(card_path: Path, edit) -> Path:
    card = json.loads(card_path.read_text())
    edit(card)
    card_path.write_text(json.dumps(card))
    return card_path


SCORE_CHANGING_EDITS = {
    "input_scale": lambda c: c["input"].__setitem__("scale", 0.0045),
    "score_range": lambda c: c.__setitem__("score_range", [0.0, 90.0]),
    "min_side": lambda c: c["input"].__setitem__("min_side", 48),
    "reading": lambda c: c.__setitem__("reading", {"overview_side": 96, "detail_tile": 64, "detail_tiles": 2,
                                                   "detail_weight": 0.5}),
}


@pytest.mark.parametrize("edit", SCORE_CHANGING_EDITS.values(), ids=SCORE_CHANGING_EDITS.keys())
def test_the_shipped_graphs_with_a_card_edited_where_it_changes_scores_are_a_new_untrusted_model(
        exported_student, photos, tmp_path, capsys, edit):
    card_path = _edit_card(_copy_model(exported_student, tmp_path / "edited"), edit)
    db = tmp_path / "cli.db"
    assert main(["--model", str(card_path), "score", str(photos), "--db", str(db)]) == 2
    assert "not a model this program ships" in capsys.readouterr().err
    assert main(["--model", str(exported_student[2]), "score", str(photos), "--db", str(db)]) == 0
    assert main(["--model", str(card_path), "score", str(photos), "--db", str(db), "--trust-model"]) == 0
    with sqlite3.connect(db) as c:  # its scores are stored apart from the shipped model's
        versions = c.execute("select origin, count(*) from scores join model_versions m on m.id = model_version_id "
                             "group by model_version_id order by origin").fetchall()
    assert versions == [("approved", 2), ("shipped", 2)]


def test_adding_an_evaluation_to_the_card_keeps_the_model_trusted_and_its_rows(exported_student, photos, tmp_path):
    card_path = _edit_card(_copy_model(exported_student, tmp_path / "annotated"),
                           lambda c: c.setdefault("evaluations", {}).update({"site": {"srcc": 0.9}}))
    db = tmp_path / "cli.db"
    assert main(["--model", str(exported_student[2]), "score", str(photos), "--db", str(db)]) == 0
    assert main(["--model", str(card_path), "score", str(photos), "--db", str(db)]) == 0
    with sqlite3.connect(db) as c:
        assert c.execute("select count(*) from model_versions").fetchone()[0] == 1


@pytest.mark.parametrize("field, value, message", [
    ("scale", "1/255", "input scale must be a positive number"),
    ("scale", 0, "input scale must be a positive number"),
    ("min_side", 0, "min_side"),
    ("min_side", 1.5, "min_side"),
])
def test_a_card_with_a_nonsense_input_block_is_refused_with_one_line(exported_student, photos, tmp_path, capsys,
                                                                     field, value, message):
    card_path = _edit_card(_copy_model(exported_student, tmp_path / "odd"), lambda c: c["input"].__setitem__(field, value))
    assert main(["--model", str(card_path), "score", str(photos), "--db", str(tmp_path / "x.db"), "--trust-model"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_graph_with_external_data_is_refused_even_when_its_hash_matches(exported_student, photos, tmp_path, capsys):
    card_path = _copy_model(exported_student, tmp_path / "external")
    card = json.loads(card_path.read_text())
    onnx_path = card_path.parent / card["onnx_file"]
    graph = onnx.load(onnx_path)
    onnx.save_model(graph, onnx_path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    card["sha256"] = sha256_file(onnx_path)
    card_path.write_text(json.dumps(card))
    code = main(["--model", str(card_path), "score", str(photos), "--db", str(tmp_path / "x.db"), "--trust-model"])
    assert code == 2
    assert "external data" in capsys.readouterr().err


def test_an_old_station_database_names_its_versions_by_identity_and_a_forged_shipped_row_loses_its_trust(
        exported_student, tmp_path):
    from sqlalchemy import create_engine

    from app.core.store import open_database
    from app.core.store.database import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'station.db'}")
    upgrade(engine, "0007")  # a station as the previous release left it
    engine.dispose()
    card = json.loads(exported_student[2].read_text())
    forged = dict(card, input=dict(card["input"], scale=0.005), sha256="f" * 64)
    with sqlite3.connect(tmp_path / "station.db") as c:
        for mv_card, origin in ((card, "shipped"), (forged, "shipped")):
            c.execute("insert into model_versions (name, version, sha256, path, card, registered_at, active, origin, "
                      "approved_by) values (?, ?, ?, '', ?, '2026-12-01', 0, ?, 'the program')",
                      (mv_card["name"], mv_card["version"], mv_card["sha256"], json.dumps(mv_card), origin))
    open_database(tmp_path / "station.db").close()  # migrates to head
    with sqlite3.connect(tmp_path / "station.db") as c:
        rows = c.execute("select sha256, origin from model_versions order by id").fetchall()
    assert rows == [(model_identity(card), "shipped"), (model_identity(forged), None)]
