"""Site calibration end to end in the Qt-free core: fit on the stored embeddings and the site's
screened MOS, apply to stored scores (raw kept), use it for new photos, remove it again."""
import numpy as np
from PIL import Image

from app.core.scoring.photo import score_batch
from app.core.ratings.session import LabelingSession
from app.core.store.repository import calibration_rows, model_calibration
from app.core.store.schema import Score
from app.core.workspace import Workspace


def _photos(folder, n=30):
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        img = np.clip(rng.normal(120 + 3 * i, 5 + 2 * i, (48, 56, 3)), 0, 255).astype(np.uint8)
        path = folder / f"{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths


def _scored_site(tmp_path, exported_student, n: int):
    """A workspace whose model scored ``n`` site photos: (workspace, path -> raw score)."""
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(exported_student[1])
    score_batch(_photos(tmp_path / "site", n), ws.engine, ws.db, ws.model_version_id)
    with ws.db.session() as s:
        return ws, {r.image.path: r.raw_score for r in s.query(Score).all()}


def _rate_in_the_models_order(ws, order: list[str], photos_of: dict[str, list[str]]) -> None:
    """Each rater votes on their photos, 1 to 5 as the photo stands in ``order`` (the raters agree
    with the model)."""
    acr = {p: 1 + (4 * i) // (len(order) - 1) for i, p in enumerate(order)}
    for rater, photos in photos_of.items():
        session = LabelingSession(ws.db, rater, "site", photos)
        while (item := session.current()) is not None:
            session.vote(acr[item.path])


def test_calibration_fits_applies_to_stored_scores_and_new_photos(tmp_path, exported_student):
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(exported_student[1])
    paths = _photos(tmp_path / "site")
    score_batch(paths[:-1], ws.engine, ws.db, ws.model_version_id)
    with ws.db.session() as s:
        stored = {r.image.path: (r.embedding, r.raw_score) for r in s.query(Score).all()}
    # Plant a site whose raters judge by something the (random) model sees in its embedding but
    # does not put in its score: the raw score ranks the photos poorly.
    direction = np.random.default_rng(1).normal(size=len(next(iter(stored.values()))[0]))
    signal = {p: float(np.dot(e, direction)) for p, (e, _) in stored.items()}
    lo, hi = min(signal.values()), max(signal.values())
    acr = {p: int(np.clip(np.rint(1 + 4 * (v - lo) / (hi - lo)), 1, 5)) for p, v in signal.items()}
    for rater in ("a", "b", "c"):
        session = LabelingSession(ws.db, rater, "site", list(acr))
        while (item := session.current()) is not None:
            session.vote(acr[item.path])

    calibration = ws.fit_calibration()
    assert calibration.n == len(stored)
    assert calibration.cv_srcc > calibration.base_srcc + 0.2  # it helps, on photos it was not fitted on
    assert model_calibration(ws.db, ws.model_version_id) is None  # fitted, not applied yet

    assert ws.apply_calibration(calibration) == len(stored)
    with ws.db.session() as s:
        rows = s.query(Score).all()
        assert all(r.raw_score == stored[r.image.path][1] for r in rows)  # raw kept
        assert any(abs(r.score - r.raw_score) > 1 for r in rows)
        assert all(r.verdict == ws.thresholds.verdict(r.score) for r in rows)
    assert model_calibration(ws.db, ws.model_version_id) == calibration

    # A new photo is scored calibrated, from what is stored with it (so a recomputation from the
    # database gives the same score); a restart reloads the calibration with the model.
    score_batch(paths[-1:], ws.engine, ws.db, ws.model_version_id)
    [(_, embedding, raw, stages)] = calibration_rows(ws.db, ws.model_version_id, [str(paths[-1])])
    with ws.db.session() as s:
        new = s.query(Score).filter(Score.image.has(path=str(paths[-1]))).one()
        assert new.score == calibration.apply(embedding, raw, stages) and raw == new.raw_score
    ws.close()
    again = Workspace(tmp_path / "site.db")
    again.load_model(exported_student[1])
    assert again.calibration == calibration

    assert again.apply_calibration(None) == len(stored) + 1
    with again.db.session() as s:
        assert all(r.score == r.raw_score for r in s.query(Score).all())
    again.close()


def _rate_by(ws, signal: dict[str, float]) -> None:
    """Three raters vote 1-5 on each photo by ``signal`` (what the site's raters judge by)."""
    lo, hi = min(signal.values()), max(signal.values())
    acr = {p: int(np.clip(np.rint(1 + 4 * (v - lo) / (hi - lo)), 1, 5)) for p, v in signal.items()}
    _rate_in_the_models_order(ws, sorted(acr, key=acr.get), {r: list(acr) for r in ("a", "b", "c")})


def _site_judged_by_the_stages(tmp_path, exported_student):
    """A scored site whose raters judge by a direction in the pooled stages stored with each
    score: (workspace, photo paths, the stored stages)."""
    ws = Workspace(tmp_path / "site.db")
    ws.load_model(exported_student[1])
    paths = _photos(tmp_path / "site")
    score_batch(paths, ws.engine, ws.db, ws.model_version_id)
    rows = calibration_rows(ws.db, ws.model_version_id, [str(p) for p in paths])
    stages = np.array([st for *_, st in rows])
    direction = np.random.default_rng(2).normal(size=stages.shape[1])
    _rate_by(ws, {p: float(np.dot(st, direction)) for p, _, _, st in rows})
    return ws, paths, stages


def test_a_site_judged_by_what_the_pooled_stages_hold_is_learned_from_what_each_score_stored(tmp_path, exported_student):
    """The site's raters judge by something the backbone's pooled stages carry: the calibration
    reads the stages stored (as half floats) with each score beside its embedding, gains on photos
    it was not fitted on, and a score stored without stages (by an older station) keeps its raw
    score when the calibration is applied."""
    ws, paths, stages = _site_judged_by_the_stages(tmp_path, exported_student)
    assert stages.shape == (len(paths), 432) and np.isfinite(stages).all()  # lite0's last two stages: 112 + 320

    calibration = ws.fit_calibration()
    assert calibration.stage_values == stages.shape[1]
    assert "pooled backbone stages" in calibration.describe()
    assert calibration.cv_srcc > calibration.base_srcc + 0.2

    with ws.db.session() as s:  # one score as an older station stored it: no pooled stages
        old = s.query(Score).filter(Score.image.has(path=str(paths[0]))).one()
        old.pooled_stages = None
    ws.apply_calibration(calibration)
    with ws.db.session() as s:
        scores = {r.image.path: r for r in s.query(Score).all()}
    assert scores[str(paths[0])].score == scores[str(paths[0])].raw_score
    assert sum(abs(r.score - r.raw_score) > 1 for r in scores.values()) > len(paths) // 2
    ws.close()


def test_calibration_counts_photos_as_the_fine_tune_does_and_says_whether_it_helps(tmp_path, exported_student):
    """A photo with one or two votes is one or two opinions: like the fine-tune, calibration
    counts only photos with the configured standing votes (3). The fit reports its interval."""
    from app.core.site.finetune_job import requirement

    ws, raw = _scored_site(tmp_path, exported_student, 24)
    order = sorted(raw, key=raw.get)
    well_rated = order[::2]
    _rate_in_the_models_order(ws, order, {"a": order, "b": well_rated, "c": well_rated})
    assert requirement()[1] == 3
    calibration = ws.fit_calibration()
    assert calibration.n == len(well_rated) and calibration.min_votes == 3
    assert ws.fit_calibration(min_votes=1).n == len(raw)
    # Already in the raters' order: a monotone map cannot rank better, so it is not said to help.
    assert calibration.base_srcc > 0.9 and not calibration.helps
    assert calibration.gain_ci is not None and calibration.gain_ci[0] <= 0
    ws.close()


def _archive_rows(db_path, version_id: int, n: int, width: int) -> None:
    """``n`` scored archive photos nobody rated (an archive run's rows, each with its embedding)."""
    import json
    import sqlite3

    rng = np.random.default_rng(2)
    with sqlite3.connect(db_path) as c:
        start = c.execute("select max(id) from images").fetchone()[0] + 1
        ids = range(start, start + n)
        c.executemany("insert into images (id, path, source, first_seen, last_seen) "
                      "values (?, ?, 'archive', '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
                      ((i, f"/archive/{i:08d}.jpg") for i in ids))
        c.executemany("insert into scores (image_id, model_version_id, status, score, raw_score, embedding, "
                      "scored_at) values (?, ?, 'ok', 50.0, 50.0, ?, '2026-12-01 00:00:00')",
                      ((i, version_id, json.dumps(rng.normal(size=width).round(4).tolist())) for i in ids))


def test_fitting_a_calibration_beside_a_large_unrated_archive_reads_only_the_rated_photos(tmp_path, exported_student):
    """A shared database holds a million scores of a version; a site rates a few hundred photos.
    The fit must ask the database for the rated photos' rows, never read every score of the
    version into memory to keep a few (20,000 unrated embeddings are tens of MB as Python lists)."""
    import tracemalloc

    ws, raw = _scored_site(tmp_path, exported_student, 16)
    order = sorted(raw, key=raw.get)
    _rate_in_the_models_order(ws, order, {"a": order, "b": order, "c": order})
    with ws.db.session() as s:
        width = len(s.query(Score).first().embedding)
    _archive_rows(tmp_path / "site.db", ws.model_version_id, 20_000, width)

    tracemalloc.start()
    try:
        calibration = ws.fit_calibration()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert calibration.n == len(order)  # the rated photos, and only they
    assert peak < 8e6, f"fitting on {len(order)} rated photos held {peak / 1e6:.0f} MB at its peak"
    ws.close()


def test_damaged_stored_stages_are_read_as_missing_never_as_numbers(tmp_path, exported_student):
    """A stored score whose pooled stages were damaged on disk (a torn write, bytes of another
    length, NaN or infinite bits) neither stops the fit nor becomes a NaN score: the fit reads the
    embedding alone when any rated photo lacks readable stages, and an applied calibration that
    reads stages leaves such a score at its raw score."""
    ws, paths, _ = _site_judged_by_the_stages(tmp_path, exported_student)
    calibration = ws.fit_calibration()
    assert calibration.stage_values == 432

    damaged = {str(paths[0]): b"\x00\x3c\x00",  # an odd number of bytes
               str(paths[1]): np.full(432, np.nan, "<f2").tobytes(),
               str(paths[2]): np.full(432, np.inf, "<f2").tobytes(),
               str(paths[3]): np.zeros(10, "<f2").tobytes()}  # another length
    with ws.db.session() as s:
        for r in s.query(Score).all():
            if r.image.path in damaged:
                r.pooled_stages = damaged[r.image.path]
    rows = {p: st for p, _, _, st in calibration_rows(ws.db, ws.model_version_id, list(damaged))}
    assert all(rows[p] is None or len(rows[p]) == 10 for p in damaged)
    assert ws.fit_calibration().stage_values == 0  # the embedding alone: not every photo has stages
    ws.apply_calibration(calibration)
    with ws.db.session() as s:
        scores = {r.image.path: r for r in s.query(Score).all()}
    assert all(np.isfinite(r.score) for r in scores.values())
    assert all(scores[p].score == scores[p].raw_score for p in damaged)
    ws.close()
