"""The same store code against a real PostgreSQL server (the throwaway cluster of conftest.py)."""
from app.core.verdict import Thresholds
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


def test_a_table_lock_held_elsewhere_stops_the_batch_with_one_line_instead_of_waiting_forever(postgres_url,
                                                                                               monkeypatch):
    import threading

    import psycopg
    from sqlalchemy.engine import make_url

    from app.core.store import database
    from app.core.store.faults import StoreError

    monkeypatch.setattr(database, "LOCK_TIMEOUT_S", 0.5)
    monkeypatch.setattr(database, "RETRY_S", 3.0)
    db = open_database(postgres_url)
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "c" * 64}, "/m.onnx")
    url = make_url(postgres_url)
    other = psycopg.connect(host=url.query["host"], port=url.query["port"], user=url.username, dbname=url.database,
                            autocommit=False)
    other.execute("LOCK TABLE scores IN ACCESS EXCLUSIVE MODE")  # a person in psql, say; never released here
    outcome = {}

    def store():
        try:
            db.run(record_score, db, mv, ScoreRecord("/p/locked.jpg", "ok", 50.0, [50, 50, 50]))
            outcome["stored"] = True
        except StoreError as exc:
            outcome["error"] = str(exc)

    worker = threading.Thread(target=store, daemon=True)
    worker.start()
    worker.join(30)
    try:
        assert not worker.is_alive(), "the batch waits on the lock forever"
        assert "lock" in outcome.get("error", "") and "gave up after" in outcome["error"]
    finally:
        other.rollback()
        other.close()
        worker.join(10)
        db.close()
