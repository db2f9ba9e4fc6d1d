"""A tiny fine-tune from the app's database: votes -> screened MOS -> new model version."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from app.core.labeling import LabelingSession
from app.core.model_loader import load_model
from app.core.store import open_database
from app.core.store.database import sqlite_url
from app.core.store.schema import ModelVersion
from models import create_model
from training.__main__ import main
from training.export import export_model


@pytest.mark.slow
def test_finetune_from_rated_photos_registers_a_new_version(tmp_path):
    rng = np.random.default_rng(0)
    photos = []
    for i in range(24):
        level = i % 4
        img = np.clip(rng.normal(128, 10 + 25 * level, (72, 88, 3)), 0, 255).astype(np.uint8)
        path = tmp_path / "site" / f"{i:02d}.png"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(img).save(path)
        photos.append((str(path), 5 - level))
    db_path = tmp_path / "site.db"
    db = open_database(db_path)
    for r in range(4):  # four simulated raters: truth plus a little noise
        session = LabelingSession(db, f"sim{r}", "site", [p for p, _ in photos])
        truth = dict(photos)
        while (item := session.current()) is not None:
            session.vote(int(np.clip(truth[item.path] + rng.integers(-1, 2) * (rng.random() < 0.3), 1, 5)))
    db.close()

    torch.manual_seed(0)
    student = create_model("student", weights=None)
    base = tmp_path / "models" / "base"
    export_model(student, base, {"version": "0.1.0"})
    torch.save({"config": student.config.to_dict(), "model": student.state_dict(), "card_info": {}}, base.with_suffix(".pt"))
    cfg = tmp_path / "ft.json"
    cfg.write_text(json.dumps({
        "model": "student", "crop": 64, "batch_size": 6, "epochs": 2, "lr_backbone": 1e-3, "lr_head": 3e-3,
        "warmup_epochs": 0, "min_votes": 3, "min_photos": 20, "val_fraction": 0.25, "split_seed": 0, "seed": 0, "threads": 2,
    }))
    out = tmp_path / "ft"
    assert main(["finetune", "--db", str(db_path), "--base", str(base.with_suffix(".onnx")), "--out", str(out), "--config", str(cfg)]) == 0
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
