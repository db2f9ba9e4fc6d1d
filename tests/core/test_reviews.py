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
