"""Recomputing a version's stored scores (a site calibration applied or removed) and choosing
photos to rate read a shared database's million rows a bounded chunk at a time: the same answers
as reading every row at once (the code before, kept here as the reference), on SQLite and
PostgreSQL, with statements that never ask for more than a chunk, memory that does not grow with
the table, and rows that die before the collector would promote them."""
from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest
from sqlalchemy import event, insert, select

from app.core.calibration import Calibration
from app.core.ratings.selection import select_for_rating
from app.core.store import open_database
from app.core.store.repository import register_model, rescore_stored
from app.core.store.schema import Image, Score
from app.core.verdict import Thresholds

T = Thresholds(60, 40)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        db = open_database(tmp_path / "chunks.db")
    else:
        db = open_database(request.getfixturevalue("postgres_cluster").new_database("chunks"))
    yield db
    db.close()


def _fill(db, rows: int, seed: int = 0, views: int = 3, dims: int = 4) -> tuple[int, int]:
    """``rows`` photos scored by one version, interleaved with another version's scores of the
    same photos: ties of spread and of distance on purpose, opinions of another number of views,
    none (SQL NULL and JSON null), a failed photo, an ok row without a score, rows without an
    embedding or a raw score. Returns (the version, the other version)."""
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "a" * 64}, "/m.onnx")
    other = register_model(db, {"name": "m", "version": "2", "sha256": "b" * 64}, "/m2.onnx")
    rng = np.random.default_rng(seed)
    with db.session() as s:
        s.execute(insert(Image), [{"id": i, "path": f"/archive/{i:06d}.jpg"} for i in range(1, rows + 1)])
        full, bare = [], []  # bare: opinions and embedding left out (SQL NULL)
        for i in range(1, rows + 1):
            score = float(rng.choice([T.pass_at, T.fail_below, 50.0, float(rng.integers(0, 200)) / 2]))
            kind = rng.integers(0, 10)
            opinions = [score + float(d) for d in rng.integers(-3, 4, views)]
            if kind == 0:
                opinions = opinions[:2]
            elif kind == 1:
                opinions = None  # JSON null
            row = {"image_id": i, "model_version_id": mv, "status": "ok", "score": score, "opinions": opinions,
                   "raw_score": score, "embedding": rng.normal(size=dims).tolist(), "verdict": T.verdict(score)}
            if kind == 2:
                row.update(status="corrupt", score=None, raw_score=None, opinions=None, verdict=None, embedding=None)
            elif kind == 3:
                row["embedding"] = None
            if kind == 4:
                bare.append({k: v for k, v in row.items() if k not in ("opinions", "embedding")})
            else:
                full.append(row)
            full.append({"image_id": i, "model_version_id": other, "status": "ok", "score": 99.0, "raw_score": 1.0,
                         "opinions": [0.0, 100.0, 0.0], "embedding": None, "verdict": "pass"})
        s.execute(insert(Score), full)
        if bare:
            s.execute(insert(Score), bare)
    with db.session() as s:  # an ok row without a score (never written by the app, read all the same)
        first = s.scalar(select(Score.id).where(Score.model_version_id == mv, Score.status == "ok").order_by(Score.id))
        s.execute(Score.__table__.update().where(Score.id == first).values(score=None))
    return mv, other


def _every_row(db, mv):
    with db.session() as s:
        return s.execute(select(Score.id, Image.path, Score.score, Score.opinions).join(Image)
                         .where(Score.model_version_id == mv, Score.status == "ok").order_by(Score.id)).all()


def _unchunked(db, mv, strategy, n, thresholds=None):
    """select_for_rating as it was: every row read at once, a stable sort (rows in score id order)."""
    rows = _every_row(db, mv)
    if strategy == "uncertain":
        views = max((len(r.opinions) for r in rows if r.opinions), default=1)
        opinions = np.array([r.opinions if r.opinions and len(r.opinions) == views else [0.0] * views for r in rows],
                            float).reshape(len(rows), views)
        order = np.argsort(-opinions.std(axis=1), kind="stable")
    else:
        t = thresholds or Thresholds()
        scores = np.array([r.score for r in rows], float)
        order = np.argsort(np.minimum(np.abs(scores - t.pass_at), np.abs(scores - t.fail_below)), kind="stable")
    return [rows[i].path for i in order[:n]]


def _calibration(dims: int) -> Calibration:
    rng = np.random.default_rng(7)
    return Calibration(mean=rng.normal(size=dims).tolist(), std=rng.uniform(0.5, 2, dims).tolist(),
                       weights=rng.normal(size=dims).tolist(), bias=1.5, lam=10.0, n=40, cv_srcc=0.8, cv_plcc=0.8,
                       base_srcc=0.6, base_plcc=0.6, map={"kind": "linear", "a": 5.0, "b": 0.9, "c": 0.0, "d": 0.0},
                       format=2)


def _scores(db):
    with db.session() as s:
        return {r.id: (r.model_version_id, r.score, r.raw_score, r.embedding, r.verdict)
                for r in s.execute(select(Score.id, Score.model_version_id, Score.score, Score.raw_score,
                                          Score.embedding, Score.verdict))}


def test_choosing_photos_chunk_by_chunk_chooses_what_reading_every_row_chose(store):
    mv, _ = _fill(store, 300)
    for n in (1, 7, 50, 400):
        for strategy in ("uncertain", "borderline"):
            expected = _unchunked(store, mv, strategy, n, T)
            assert len(expected) == min(n, len(_every_row(store, mv)))
            for chunk in (1, 7, 64, 10_000):
                assert select_for_rating(store, mv, strategy, n, T, chunk=chunk) == expected, (strategy, n, chunk)


def test_a_random_sample_depends_on_the_seed_not_on_the_chunk_size(store):
    mv, _ = _fill(store, 300)
    ok = {r.path for r in _every_row(store, mv)}
    sample = select_for_rating(store, mv, "random", 40, seed=3, chunk=7)
    assert sample == select_for_rating(store, mv, "random", 40, seed=3, chunk=10_000)
    assert len(set(sample)) == 40 and set(sample) <= ok
    assert sample != select_for_rating(store, mv, "random", 40, seed=4, chunk=7)
    assert sorted(select_for_rating(store, mv, "random", 1000, chunk=7)) == sorted(ok)


def test_views_of_another_number_count_as_no_disagreement_and_no_opinions_at_all_keep_scoring_order(db):
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "c" * 64}, "/m.onnx")
    with db.session() as s:
        s.execute(insert(Image), [{"id": i, "path": f"/p/{i}.jpg"} for i in range(1, 7)])
        s.execute(insert(Score), [
            {"image_id": 1, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": [0.0, 100.0]},
            {"image_id": 2, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": [49.0, 50.0, 51.0]},
            {"image_id": 3, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": [50.0, 50.0, 50.0]},
            {"image_id": 4, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": [10.0, 50.0, 90.0]},
            {"image_id": 5, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": []},
            {"image_id": 6, "model_version_id": mv, "status": "ok", "score": 50.0, "opinions": None},
        ])
    # Three views is the most: the two-view photo, wildly as it disagrees, counts as agreeing,
    # and ties of no disagreement go to the photo scored first.
    assert select_for_rating(db, mv, "uncertain", 6, chunk=2) == [f"/p/{i}.jpg" for i in (4, 2, 1, 3, 5, 6)]
    assert select_for_rating(db, mv, "uncertain", 6, chunk=2) == _unchunked(db, mv, "uncertain", 6)


def test_applying_and_removing_a_calibration_chunk_by_chunk_recomputes_every_score_as_before(store):
    mv, other = _fill(store, 300, dims=4)
    before = _scores(store)
    calibration = _calibration(4)
    recomputed = [i for i, (v, _, raw, _, _) in before.items() if v == mv and raw is not None]

    assert rescore_stored(store, mv, calibration, T, "sam", chunk=7) == len(recomputed)
    after = _scores(store)
    for i, (version, score, raw, embedding, verdict) in before.items():
        if i in recomputed:
            expected = calibration.apply(embedding, raw) if embedding is not None else raw
            # a chunk is one matrix product: equal to the photo-by-photo value to the last bits
            assert after[i][1] == pytest.approx(expected, rel=1e-12) and after[i][4] == T.verdict(after[i][1])
            assert after[i][2] == raw  # the raw score kept
        else:  # the other version's scores, and a failed photo, untouched
            assert after[i] == (version, score, raw, embedding, verdict)
    assert any(after[i][1] != before[i][2] for i in recomputed)

    assert rescore_stored(store, mv, None, Thresholds(70, 20), "sam", chunk=7) == len(recomputed)
    removed = _scores(store)
    for i, row in before.items():
        if i in recomputed:
            assert removed[i][1] == row[2] and removed[i][4] == Thresholds(70, 20).verdict(row[2])
        else:
            assert removed[i] == row


def _statements(db):
    seen = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, *rest: seen.append((statement, parameters)))
    return seen


def test_every_statement_that_reads_the_scores_reads_one_chunk_from_the_primary_key(db):
    mv, _ = _fill(db, 300)
    seen = _statements(db)
    select_for_rating(db, mv, "uncertain", 10, chunk=25)
    rescore_stored(db, mv, _calibration(4), T, chunk=25)
    reads = [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT") and "FROM scores" in s
             and "JOIN" not in s]
    assert reads and all("LIMIT" in s for s, _ in reads)
    assert len(reads) >= 2 * 270 // 25  # ~270 ok rows of the version, ~300 with a raw score: chunk after chunk
    # Each chunk walks the primary key from the last one's end: never the version's index, whose
    # rows SQLite would sort anew for every chunk (a quadratic read of a million rows).
    with db.engine.connect() as c:
        for statement, parameters in reads:
            plan = " ".join(str(r[-1]) for r in c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
            assert "TEMP B-TREE" not in plan and " INDEX " not in plan, plan  # SCAN scores, or SEARCH by rowid
    # Removing reads nothing: one UPDATE, run by the database alone.
    seen.clear()
    rescore_stored(db, mv, None, T, chunk=25)
    assert [s.split()[0].upper() for s, _ in seen] == ["UPDATE", "UPDATE"]


def _peak_kib(fn) -> float:
    fn()  # once first: SQLAlchemy's statement cache and numpy's first calls are not the table's memory
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("action", ["choose", "calibrate"])
def test_memory_follows_the_chunk_not_the_table(tmp_path, action):
    peaks = []
    for rows in (1500, 6000):
        db = open_database(tmp_path / f"{rows}.db")
        mv, _ = _fill(db, rows, dims=32)
        calibration = _calibration(32)
        if action == "choose":
            peaks.append(_peak_kib(lambda: select_for_rating(db, mv, "uncertain", 20, chunk=200)))
        else:
            peaks.append(_peak_kib(lambda: rescore_stored(db, mv, calibration, T, chunk=200)))
        db.close()
    # Reading every row at once took ~4x the memory at 4x the rows; chunk by chunk it stays put.
    assert peaks[1] < 1.3 * peaks[0], peaks


def test_the_reservoir_draws_each_photo_about_equally_often(db):
    mv, _ = _fill(db, 60)
    ok = [r.path for r in _every_row(db, mv)]
    counts = dict.fromkeys(ok, 0)
    draws = 300
    for seed in range(draws):
        for path in select_for_rating(db, mv, "random", 10, seed=seed, chunk=16):
            counts[path] += 1
    expected = draws * 10 / len(ok)
    assert all(0.3 * expected < c < 2.0 * expected for c in counts.values()), counts


def _collections(fn) -> list[int]:
    """How many collections of each generation ran while ``fn()`` ran (after one warm-up run)."""
    fn()
    counts = [0, 0, 0]

    def count(phase, info):
        if phase == "start":
            counts[info["generation"]] += 1

    gc.collect()
    gc.callbacks.append(count)
    try:
        fn()
    finally:
        gc.callbacks.remove(count)
    return counts


def test_rows_die_young_so_the_collector_never_walks_the_whole_process(tmp_path):
    """The stall the window showed was the collector, not the SQL: rows kept alive long enough to
    be promoted make CPython walk every object of the process (a million in the window, ~0.2 s a
    time). Reading a row at a time into flat lists, nothing lives long enough to leave the
    youngest generation. (Every row at once, 6,000 rows cost 2 collections of the middle
    generation per choice and, for a calibration, a full one.)"""
    db = open_database(tmp_path / "gc.db")
    mv, _ = _fill(db, 6000, dims=32)
    for strategy in ("uncertain", "borderline", "random"):
        assert _collections(lambda: select_for_rating(db, mv, strategy, 20, T, chunk=500))[1:] == [0, 0], strategy
    calibration = _calibration(32)
    assert _collections(lambda: rescore_stored(db, mv, calibration, T, chunk=500))[2] == 0
    db.close()
