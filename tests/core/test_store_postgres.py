"""The same store code against a real PostgreSQL server (the throwaway cluster of conftest.py)."""
from app.core.rules import Thresholds
from app.core.store import open_database
from app.core.store.database import current_revision, head_revision
from app.core.store.repository import (
    ScoreRecord,
    record_score,
    register_model,
    save_thresholds,
    scored_paths,
    verdict_counts,
)


def test_the_store_works_unchanged_on_postgresql(postgres_url):
    db = open_database(postgres_url)
    assert current_revision(db.engine) == head_revision()
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "b" * 64}, "/m.onnx")
    for i, s in enumerate([10.0, 50.0, 90.0]):
        record_score(db, mv, ScoreRecord(f"/p/{i}.jpg", "ok", s, [s, s, s]))
    record_score(db, mv, ScoreRecord("/p/0.jpg", "ok", 95.0, [95, 95, 95]))  # upsert, not a duplicate
    assert scored_paths(db, mv) == {"/p/0.jpg", "/p/1.jpg", "/p/2.jpg"}
    save_thresholds(db, mv, "strict", Thresholds(92, 60))
    assert verdict_counts(db, mv) == {"pass": 1, "review": 1, "fail": 1}  # 95, 90, 50
    db.close()
