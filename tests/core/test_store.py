import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.core.verdict import Thresholds
from app.core.store import open_database
from app.core.store.database import current_revision, head_revision, sqlite_url, upgrade
from app.core.store.repository import (
    ScoreRecord,
    record_score,
    register_model,
    save_thresholds,
    scored_paths,
    verdict_counts,
)
from app.core.store.schema import Base, Score

CARD = {"name": "m", "version": "1", "sha256": "a" * 64}


def test_a_new_database_is_migrated_to_head_in_wal_mode_with_foreign_keys(db, tmp_path):
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
    # What the migrations built is exactly what the ORM describes.
    with db.engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


def test_migration_runs_from_an_empty_file_and_reopening_is_a_no_op(tmp_path):
    path = tmp_path / "x.db"
    sqlite3.connect(path).close()  # an existing, empty SQLite file
    open_database(path).close()
    db = open_database(path)
    assert set(inspect(db.engine).get_table_names()) >= {"images", "scores", "model_versions", "threshold_profiles", "alembic_version"}
    db.close()


def test_downgrade_to_nothing_and_up_again(tmp_path):
    engine = create_engine(sqlite_url(tmp_path / "y.db"))
    upgrade(engine)
    from alembic import command

    from app.core.store.database import alembic_config

    cfg = alembic_config()
    with engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "base")
    assert "scores" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_rescoring_updates_the_row_instead_of_duplicating_it(db):
    mv = register_model(db, CARD, "/m.onnx")
    assert register_model(db, CARD, "/moved/m.onnx") == mv
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 70.0, [70, 71, 69], 0.1))
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 30.0, [30, 31, 29], 0.1))
    record_score(db, mv, ScoreRecord("/p/b.jpg", "corrupt", error="b.jpg: damaged"))
    with db.session() as s:
        rows = s.query(Score).order_by(Score.id).all()
        assert [(r.score, r.verdict, r.status) for r in rows] == [(30.0, "fail", "ok"), (None, None, "corrupt")]
    assert scored_paths(db, mv) == {"/p/a.jpg", "/p/b.jpg"}


def test_new_thresholds_recompute_every_verdict_without_rescoring(db):
    mv = register_model(db, CARD, "/m.onnx")
    for i, score in enumerate([10, 45, 55, 65, 90]):
        record_score(db, mv, ScoreRecord(f"/p/{i}.jpg", "ok", float(score)))
    record_score(db, mv, ScoreRecord("/p/bad.jpg", "empty", error="empty"))
    assert verdict_counts(db, mv) == {"fail": 1, "review": 2, "pass": 2, "empty": 1}
    save_thresholds(db, mv, "strict", Thresholds(pass_at=80, fail_below=50))
    assert verdict_counts(db, mv) == {"fail": 2, "review": 2, "pass": 1, "empty": 1}
    # New scores follow the active profile too.
    record_score(db, mv, ScoreRecord("/p/new.jpg", "ok", 75.0))
    assert verdict_counts(db, mv)["review"] == 3


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError):
        Thresholds(pass_at=30, fail_below=50)
    t = Thresholds(60, 40)
    assert t.counts([10, 40, 59.9, 60, 99]) == {"pass": 2, "review": 2, "fail": 1}


def test_upgrade_from_the_first_revision_keeps_the_data(tmp_path):
    """A station still on revision 0001 (no ratings tables, no raw scores) upgrades with its
    scores intact, and its old scores count as uncalibrated (raw = shown)."""
    from alembic import command

    from app.core.store.database import alembic_config

    db = open_database(tmp_path / "old.db")
    mv = register_model(db, CARD, "/m.onnx")
    record_score(db, mv, ScoreRecord("/p/kept.jpg", "ok", 66.0))
    with db.engine.begin() as conn:  # make the station as it was on 0001
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "votes" not in inspect(db.engine).get_table_names()
    assert "raw_score" not in {c["name"] for c in inspect(db.engine).get_columns("scores")}
    db.close()
    db = open_database(tmp_path / "old.db")
    assert current_revision(db.engine) == head_revision() != "0001"
    assert {"votes", "raters", "rating_orders", "gold_images"} <= set(inspect(db.engine).get_table_names())
    assert scored_paths(db, mv) == {"/p/kept.jpg"}
    with db.session() as s:
        row = s.query(Score).one()
        assert row.score == row.raw_score == 66.0 and row.embedding is None
    db.close()


def test_first_use_creates_the_database_folder(tmp_path):
    db = open_database(tmp_path / "new" / "nested" / "inspector.db")
    assert (tmp_path / "new" / "nested" / "inspector.db").exists()
    db.close()


def test_a_photo_stored_after_a_threshold_change_gets_the_verdict_in_force_not_the_batchs(tmp_path):
    """A batch that began before a supervisor saved stricter thresholds: what it stores later is
    judged by the thresholds in force when stored, as every row before it was recomputed."""
    import numpy as np
    from PIL import Image

    from app.core.scoring.photo import score_batch
    from app.core.store.repository import score_rows

    db = open_database(tmp_path / "v.db")
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "d" * 64}, "/m.onnx")

    class SlowEngine:  # scores 70 for every photo; the supervisor saves while the batch runs
        def __init__(self):
            self.calls = 0

        def score(self, rgb):
            self.calls += 1
            if self.calls == 2:
                save_thresholds(db, mv, "strict", Thresholds(90, 80))
            from types import SimpleNamespace
            return SimpleNamespace(score=70.0, raw_score=70.0, opinions=np.array([70.0]), embedding=[0.0], seconds=0.0,
                                   pooled_stages=None)

    photos = []
    for i in range(4):
        p = tmp_path / f"p{i}.png"
        Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)).save(p)
        photos.append(p)
    score_batch(photos, SlowEngine(), db, mv)
    assert {r["verdict"] for r in score_rows(db, mv)} == {"fail"}  # 70 < 80 for each, before and after the save
    db.close()
