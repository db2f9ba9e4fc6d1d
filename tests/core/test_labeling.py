import pytest

from app.core.ratings.selection import select_for_rating
from app.core.ratings.session import LabelingSession, gold_answers, practice_answers, screened_site_mos, standing_votes
from app.core.store import open_database
from app.core.store.repository import ScoreRecord, record_score, register_model
from app.core.verdict import Thresholds

PHOTOS = [f"/p/{i:02d}.jpg" for i in range(10)]
TRAINING = [("/t/good.jpg", 5), ("/t/bad.jpg", 1)]
GOLD = [("/g/known.jpg", 2, 1)]


def _session(db, rater="alice"):
    return LabelingSession(db, rater, "batch-1", PHOTOS, TRAINING, GOLD, display={"screen": "1920x1080"})


def test_training_first_then_a_private_order_with_gold_hidden_inside(db):
    alice, bob = _session(db, "alice"), _session(db, "bob")
    first = alice.current()
    assert (first.kind, first.path, first.expected) == ("training", "/t/good.jpg", 5)
    alice.vote(5)
    assert alice.current().path == "/t/bad.jpg"
    alice.vote(1)
    order_a, order_b = [], []
    while (item := alice.current()) is not None:
        order_a.append(item.path)
        assert item.expected is None  # nothing but training reveals an answer
        alice.vote(3)
    bob.vote(5), bob.vote(1)
    while (item := bob.current()) is not None:
        order_b.append(item.path)
        bob.vote(4)
    assert sorted(order_a) == sorted(PHOTOS + ["/g/known.jpg"])
    assert order_a != order_b  # each rater has their own order
    assert alice.progress() == (13, 13)


def test_a_restart_resumes_at_the_same_photo_and_undo_withdraws_without_deleting(db):
    s1 = _session(db)
    for value in (5, 1, 4, 2):
        s1.vote(value)
    here = s1.current()
    s2 = _session(db)  # the program restarted
    assert s2.current() == here
    back = s2.undo()
    assert back.position == here.position - 1
    s2.vote(3)
    votes = standing_votes(db, kinds=("normal", "gold", "training"))
    assert sorted(v for _, _, v in votes) == [1, 3, 4, 5]  # the 2 was withdrawn and answered 3
    with db.session() as s:
        from app.core.store.schema import Vote

        assert s.query(Vote).count() == 5  # the withdrawn vote is still there
        assert s.query(Vote).filter(Vote.withdrawn_at.is_not(None)).count() == 1


def test_votes_are_validated_and_gold_answers_are_known(db):
    s = _session(db)
    with pytest.raises(ValueError):
        s.vote(6)
    with pytest.raises(ValueError):
        LabelingSession(db, "  ", "b", PHOTOS)
    assert gold_answers(db)["/g/known.jpg"] == (2, 1)


def test_selection_strategies(db):
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "c" * 64}, "/m.onnx")
    record_score(db, mv, ScoreRecord("/s/agree.jpg", "ok", 50.0, [50, 50, 50]))
    record_score(db, mv, ScoreRecord("/s/disagree.jpg", "ok", 50.0, [20, 50, 80]))
    record_score(db, mv, ScoreRecord("/s/edge.jpg", "ok", 59.5, [59, 60, 59.5]))
    record_score(db, mv, ScoreRecord("/s/broken.jpg", "corrupt", error="x"))
    record_score(db, mv, ScoreRecord("/s/no-views.jpg", "ok", 55.0))  # a score without per-view opinions
    assert select_for_rating(db, mv, "uncertain", 1) == ["/s/disagree.jpg"]
    assert select_for_rating(db, mv, "borderline", 1, Thresholds(60, 40)) == ["/s/edge.jpg"]
    assert sorted(select_for_rating(db, mv, "random", 10)) == ["/s/agree.jpg", "/s/disagree.jpg", "/s/edge.jpg", "/s/no-views.jpg"]


def _walk_to(session, path):
    """Vote 3 on every photo until ``path`` is the one shown."""
    while (item := session.current()).path != path:
        session.vote(3)
    return item


def test_a_photo_that_cannot_be_shown_is_skipped_not_voted_and_comes_back_at_the_next_sitting(db):
    first = _session(db)
    _walk_to(first, "/p/04.jpg")
    after = first.skip("04.jpg: the file is gone")
    assert after is not None and after.path != "/p/04.jpg"
    assert first.skipped() == 1
    while (item := first.current()) is not None:  # never offered again in this sitting
        assert item.path != "/p/04.jpg"
        first.vote(4)
    assert first.progress() == (12, 13) and first.skipped() == 1
    votes = standing_votes(db, kinds=("normal", "gold", "training"))
    assert "/p/04.jpg" not in {p for _, p, _ in votes} and len(votes) == 12
    with db.session() as s:
        from app.core.store.schema import Skip

        (skip,) = s.query(Skip).all()
        assert skip.reason == "04.jpg: the file is gone" and skip.session_id == first.session_id

    later = _session(db)  # the next sitting: offered again, after everything else
    back = later.current()
    assert back.path == "/p/04.jpg" and back.skipped_before
    later.vote(2)
    assert later.current() is None and later.progress() == (13, 13) and later.skipped() == 0


def test_a_photo_skipped_again_at_the_next_sitting_ends_that_sitting(db):
    first = _session(db)
    _walk_to(first, "/p/07.jpg")
    first.skip("gone")
    while first.current() is not None:
        first.vote(3)
    later = _session(db)
    assert later.current().path == "/p/07.jpg"
    assert later.skip("still gone") is None  # nothing left to offer in this sitting
    assert later.skipped() == 1


def test_undo_withdraws_a_skip_like_a_vote(db):
    s = _session(db)
    s.vote(5)
    s.vote(1)  # the two training photos
    here = s.current()
    s.skip("cannot be decoded")
    assert s.current() != here
    assert s.undo() == here  # the skip is withdrawn: the photo is offered again, in its place
    assert s.skipped() == 0
    s.vote(4)
    assert s.undo() == here  # then the vote on it
    with db.session() as session:
        from app.core.store.schema import Skip

        assert session.query(Skip).filter(Skip.withdrawn_at.is_not(None)).count() == 1


def test_one_rater_at_two_stations_has_one_voice_per_photo_the_latest(db, tmp_path):
    """The same rater at two stations sharing the database, both showing the same photo at once:
    the later answer is refused when the first is already stored; when both pass that check at
    the same moment (two votes stored), the MOS still counts that rater once, the latest answer."""
    from app.core.store.schema import Vote

    other_station = open_database(tmp_path / "inspector.db")
    first = LabelingSession(db, "carol", "batch-A", PHOTOS[2:3], (), ())
    second = LabelingSession(other_station, "carol", "batch-B", PHOTOS[2:3], (), ())
    assert first.current().path == second.current().path == PHOTOS[2]
    first.vote(2)
    with pytest.raises(RuntimeError, match="answered every photo"):
        second.vote(4)
    with db.session() as s:  # the race: a second vote stored alongside the first
        stored = s.query(Vote).one()
        s.add(Vote(rater_id=stored.rater_id, image_id=stored.image_id, value=4, kind="normal"))
    assert [(p, v) for r, p, v in standing_votes(db) if r == "carol"] == [(PHOTOS[2], 4)]
    other_station.close()


def test_practice_photos_rated_later_as_normal_photos_are_never_gold_checks(db):
    """Issue 21, 12b: a practice photo's shown answer is a lesson, not a known answer with
    tolerance 0. Rated later as a normal photo, an honest vote one step off is an opinion, and
    counting it as a failed gold check rejected the rater."""
    practice = [("/t/a.jpg", 5), ("/t/b.jpg", 1), ("/t/c.jpg", 4)]
    honest = {"/t/a.jpg": 4, "/t/b.jpg": 2, "/t/c.jpg": 3}  # each one step from the practice answer
    later = sorted(honest) + PHOTOS[:4]
    trainee = LabelingSession(db, "trainee", "practice-batch", PHOTOS[4:6], practice)
    item = trainee.current()
    assert (item.kind, item.expected) == ("training", 5)  # the practice answer is still shown
    while (item := trainee.current()) is not None:
        trainee.vote(item.expected or 3)
    for rater in ("alice", "bob", "carol"):  # later, the practice photos are chosen for rating
        second = LabelingSession(db, rater, "later-batch", later)
        while (item := second.current()) is not None:
            assert item.kind == "normal" and item.expected is None
            second.vote(honest.get(item.path, 3))

    assert gold_answers(db) == {}  # no hidden gold photo was ever given
    mos, info = screened_site_mos(db)
    assert info["rejected_raters"] == [] and info["gold_photos"] == 0
    for rater in ("alice", "bob", "carol"):
        assert info["screening"].raters[rater].gold_votes == 0
    assert {p: mos[p].mos for p in honest} == honest  # the practice photos' MOS is their honest votes


def test_a_station_upgraded_from_0008_keeps_its_gold_and_sets_its_practice_answers_apart(tmp_path):
    """Before revision 0009 practice answers were gold rows with tolerance 0: the upgrade moves them
    out, and the hidden gold stays gold."""
    from alembic import command

    from app.core.store.database import alembic_config

    db = open_database(tmp_path / "old.db")
    _session(db).vote(5)
    with db.engine.begin() as conn:  # the station as it was on 0008
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    db.close()
    db = open_database(tmp_path / "old.db")
    try:
        assert gold_answers(db) == {"/g/known.jpg": (2, 1)}
        assert practice_answers(db) == {"/t/good.jpg": 5, "/t/bad.jpg": 1}
        item = _session(db).current()
        assert (item.path, item.kind, item.expected) == ("/t/bad.jpg", "training", 1)
    finally:
        db.close()
