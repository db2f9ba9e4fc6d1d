"""An inspector's decision is about the photo: it stays when the model version changes, and
lapses when the file's content changes."""
from app.core.outputs.reviews import add_review, current_reviews
from app.core.store.repository import ScoreRecord, record_score, register_model


def test_a_decision_stays_in_force_when_the_supervisor_switches_model_versions(db):
    old = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m1.onnx")
    new = register_model(db, {"name": "m", "version": "2", "sha256": "b" * 64}, "/m2.onnx")
    record_score(db, old, ScoreRecord("/p/a.jpg", "ok", 52.0, content_hash="h1"))
    add_review(db, old, "/p/a.jpg", "rejected", "smudge", reviewer="ana")
    record_score(db, new, ScoreRecord("/p/a.jpg", "ok", 58.0, content_hash="h1"))  # the same file, rescored
    assert current_reviews(db)["/p/a.jpg"].decision == "rejected"
    assert current_reviews(db)["/p/a.jpg"].reason == "smudge"
    add_review(db, new, "/p/a.jpg", "accepted", reviewer="ben")  # a change of mind under the new version
    assert current_reviews(db)["/p/a.jpg"].decision == "accepted"


def test_a_decision_lapses_when_the_photo_is_replaced_by_another_file_at_the_same_path(db):
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m1.onnx")
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 52.0, content_hash="h1"))
    add_review(db, mv, "/p/a.jpg", "accepted", reviewer="ana")
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 20.0, content_hash="h2"))  # changed in place
    assert "/p/a.jpg" not in current_reviews(db)


def test_a_withdrawn_decision_leaves_the_photo_undecided_and_stays_on_record(db):
    from app.core.outputs.reviews import review_of

    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m1.onnx")
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 52.0, content_hash="h1"))
    assert review_of(db, "/p/a.jpg") is None
    add_review(db, mv, "/p/a.jpg", "rejected", "smudge", reviewer="ana")
    assert review_of(db, "/p/a.jpg").reason == "smudge"
    add_review(db, mv, "/p/a.jpg", "cleared", reviewer="ana")
    assert review_of(db, "/p/a.jpg") is None and "/p/a.jpg" not in current_reviews(db)
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 20.0, content_hash="h2"))
    add_review(db, mv, "/p/a.jpg", "accepted", reviewer="ana")
    record_score(db, mv, ScoreRecord("/p/a.jpg", "ok", 20.0, content_hash="h3"))  # replaced again
    assert review_of(db, "/p/a.jpg") is None


def test_a_database_from_before_reason_codes_is_migrated_and_its_decisions_read_as_they_were(tmp_path):
    """A station's database at 0012 (no reason_code column) with a reject on record: opened by
    this version it gains the column, the old decision keeps its text and no invented code, and
    new decisions carry their code."""
    from alembic import command
    from sqlalchemy import inspect

    from app.core.outputs.reason_codes import parse_codes, reason_label
    from app.core.outputs.reviews import add_review, current_reviews, review_of, with_reviews
    from app.core.store import open_database
    from app.core.store.database import alembic_config, current_revision, head_revision
    from app.core.store.repository import ScoreRecord, record_score, register_model, score_rows

    db = open_database(tmp_path / "old.db")
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m.onnx")
    for p in ("/p/old.jpg", "/p/new.jpg"):
        record_score(db, mv, ScoreRecord(p, "ok", 50.0))
    with db.engine.begin() as conn:  # the station as it was on 0012
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
        conn.exec_driver_sql("INSERT INTO reviews (image_id, model_version_id, decision, reason, reviewer, created_at) "
                             "SELECT id, 1, 'rejected', 'smudge', 'Ana', '2026-12-01 10:00:00' FROM images "
                             "WHERE path = '/p/old.jpg'")
    assert "reason_code" not in {c["name"] for c in inspect(db.engine).get_columns("reviews")}
    db.close()

    db = open_database(tmp_path / "old.db")
    assert current_revision(db.engine) == head_revision()
    old = review_of(db, "/p/old.jpg")
    assert (old.decision, old.reason, old.reason_code, old.why) == ("rejected", "smudge", None, "smudge")
    add_review(db, mv, "/p/new.jpg", "rejected", "", reviewer="B-1042", reason_code="Exposure ")
    rows = {r["path"]: r for r in with_reviews(score_rows(db, mv), current_reviews(db))}
    assert (rows["/p/new.jpg"]["review_reason_code"], rows["/p/new.jpg"]["review_reason"]) == ("exposure", "")
    assert (rows["/p/old.jpg"]["review_reason_code"], rows["/p/old.jpg"]["review_reason"]) == ("", "smudge")
    db.close()
    assert parse_codes("") == ("blur", "exposure", "noise", "framing", "other")
    assert parse_codes(["Glare", "other", " glare", "dust"]) == ("glare", "dust", "other")
    assert reason_label("other", "lens cap") == "other: lens cap" and reason_label(None, "") == ""


def test_a_decision_on_many_photos_is_stored_whole_or_not_at_all_and_says_what_each_replaced(db):
    import pytest

    from app.core.outputs.reviews import add_reviews

    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m1.onnx")
    for p in ("/p/a.jpg", "/p/b.jpg"):
        record_score(db, mv, ScoreRecord(p, "ok", 52.0, content_hash=p))
    add_review(db, mv, "/p/a.jpg", "accepted", reviewer="ana")
    with pytest.raises(ValueError, match="/p/gone.jpg"):  # one photo not in the database: none stored
        add_reviews(db, mv, [("/p/a.jpg", "rejected", None, "blur"), ("/p/gone.jpg", "rejected", None, "blur")])
    assert current_reviews(db)["/p/a.jpg"].decision == "accepted" and "/p/b.jpg" not in current_reviews(db)
    before = add_reviews(db, mv, [(p, "rejected", "tray 4", "blur") for p in ("/p/a.jpg", "/p/b.jpg")], reviewer="ben")
    assert before["/p/a.jpg"].decision == "accepted" and before["/p/b.jpg"] is None
    now = current_reviews(db)
    assert {(now[p].decision, now[p].reason_code, now[p].reason, now[p].reviewer) for p in now} == \
        {("rejected", "blur", "tray 4", "ben")}
