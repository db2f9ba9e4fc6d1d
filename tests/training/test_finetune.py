"""A tiny fine-tune from the app's database: votes -> screened MOS -> new model version."""
import json

import pytest
import torch

from app.core.model_loader import load_model
from app.core.store import open_database
from app.core.store.database import sqlite_url
from app.core.store.schema import ModelVersion
from models import create_model
from training.__main__ import main
from training.export import export_model


@pytest.mark.slow
def test_finetune_from_rated_photos_registers_a_new_version(tmp_path, rated_site):
    db_path, base_onnx, cfg = rated_site
    out = tmp_path / "ft"
    assert main(["finetune", "--db", str(db_path), "--base", str(base_onnx), "--out", str(out), "--config", str(cfg)]) == 0
    report = json.loads((out / "finetune_report.json").read_text())
    assert report["held_out"] == 6 and report["rated_photos"] == 24
    for when in ("before", "after"):
        assert set(report[when]) >= {"srcc", "plcc"} and report[when]["n"] == 6
    new = next(out.glob("base-site-*.onnx"))
    card = load_model(new).card
    assert card["version"].startswith("0.1.0+site.") and card["site_evaluation"]["held_out"] == 6
    db = open_database(sqlite_url(db_path))
    with db.session() as s:
        assert s.query(ModelVersion).filter(ModelVersion.sha256 == card["sha256"]).count() == 1
    db.close()


def test_finetune_refuses_when_too_few_photos_are_rated(tmp_path):
    from training.finetune import run_finetune

    torch.manual_seed(0)
    student = create_model("student", weights=None)
    base = tmp_path / "base"
    export_model(student, base)
    torch.save({"config": student.config.to_dict(), "model": student.state_dict()}, base.with_suffix(".pt"))
    open_database(tmp_path / "empty.db").close()
    with pytest.raises(ValueError, match="rate at least"):
        run_finetune({"min_votes": 3, "min_photos": 20}, sqlite_url(tmp_path / "empty.db"), base.with_suffix(".onnx"), tmp_path / "o")
