"""Stations sharing one database: a supervisor's thresholds and model version reach the other
stations; two stations scoring one folder at once leave one row per photo and both succeed."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.verdict import Thresholds
from app.core.site.station_sync import StationSync
from app.core.store.schema import Image, Score, ThresholdProfile
from app.core.workspace import Workspace

from .conftest import make_folder

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_stations(db_url, exported_student):
    a, b = Workspace(db_url), Workspace(db_url)
    a.load_model(exported_student[1])
    b.load_model(exported_student[1])
    yield a, b
    a.close(), b.close()


def test_thresholds_saved_at_one_station_are_seen_by_another(two_stations):
    a, b = two_stations
    sync = StationSync(b.db)
    assert not sync.poll(b.model_version_id, b.thresholds)
    a.set_thresholds(Thresholds(72, 31), "night shift")
    change = sync.poll(b.model_version_id, b.thresholds)
    assert (change.thresholds, change.profile, change.model) == (Thresholds(72, 31), "night shift", None)
    b.thresholds = change.thresholds  # what the window does with it
    assert not sync.poll(b.model_version_id, b.thresholds)
    assert not StationSync(a.db).poll(a.model_version_id, a.thresholds)  # its own save is no news to A


def test_a_model_version_switched_at_one_station_is_offered_to_another_once(two_stations, second_student):
    a, b = two_stations
    sync = StationSync(b.db)
    a.load_model(second_student[0], site_choice=True)  # a supervisor's switch
    change = sync.poll(b.model_version_id, b.thresholds)
    assert change.model is not None and change.model.id == a.model_version_id
    assert change.model.path == str(second_student[0])
    old = b.model_version_id
    b.load_model(change.model.path)
    assert not sync.poll(b.model_version_id, b.thresholds)
    # A station that could not load it (its file not on that PC) is told once, not at every poll.
    c = StationSync(b.db)
    assert c.poll(old, None).model is not None
    c.decline(a.model_version_id)
    assert not c.poll(old, None)


def test_a_poll_reads_no_model_card_and_no_calibration(two_stations):
    """Every open window polls every few seconds, over the site's network: a poll reads the
    version's id, name and path, never its card (~40 KB) or its calibration (a kernel ridge's
    support: ~3 MB at 600 rated photos of pooled stages)."""
    from sqlalchemy import event

    a, b = two_stations
    a.set_thresholds(Thresholds(72, 31), "night shift")
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(b.db.engine, "before_cursor_execute", listener)
    try:
        assert StationSync(b.db).poll(b.model_version_id, b.thresholds).thresholds == Thresholds(72, 31)
    finally:
        event.remove(b.db.engine, "before_cursor_execute", listener)
    version_reads = [s for s in statements if "FROM model_versions" in s]
    assert version_reads and not any("calibration" in s or ".card" in s for s in version_reads), version_reads


def test_a_review_decision_made_at_one_station_is_news_to_another_once(two_stations, tmp_path):
    from app.core.scoring.photo import score_batch
    from app.core.outputs.reviews import add_review

    a, b = two_stations
    make_folder(tmp_path / "photos", 2, bad=0)
    paths = sorted(p for p in (tmp_path / "photos").rglob("*") if p.suffix in (".png", ".jpg"))
    score_batch(paths, a.engine, a.db, a.model_version_id)
    sync = StationSync(b.db)
    assert not sync.poll(b.model_version_id, b.thresholds)  # the first poll learns where things stand
    add_review(a.db, a.model_version_id, str(paths[0].resolve()), "rejected", "smudge", reviewer="inspector ana")
    assert sync.poll(b.model_version_id, b.thresholds).reviews
    assert not sync.poll(b.model_version_id, b.thresholds)


def test_only_a_supervisors_switch_changes_the_sites_model_and_where_it_is_loaded_from(two_stations, second_student,
                                                                                       tmp_path):
    import shutil

    from app.core.site.station_sync import site_state

    a, b = two_stations
    site = site_state(a.db, None).model
    local = tmp_path / "b_local_copy"
    shutil.copytree(second_student[0].parent, local)
    b.load_model(local / second_student[0].name)  # station B tries another model for itself
    assert site_state(a.db, None).model == site  # the site still runs what it ran, from where it did
    assert not StationSync(a.db).poll(a.model_version_id, a.thresholds)
    b.load_model(local / second_student[0].name, site_choice=True)
    now = site_state(a.db, None).model
    assert now.id == b.model_version_id and now.path == str(local / second_student[0].name)


@pytest.mark.slow
def test_two_stations_scoring_the_same_folder_at_once_write_one_row_per_photo(db_url, exported_student, tmp_path):
    root = tmp_path / "shared"
    n = make_folder(root, 30)
    env = dict(os.environ, PYTHONPATH=str(ROOT), MOBILEIQA_DB_URL=db_url)
    cmd = [sys.executable, "-m", "app", "--model", str(exported_student[1]), "score", str(root), "--recursive",
           "--trust-model", "--db", db_url]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], [r[1][-2000:] for r in results]
    assert not any("IntegrityError" in r[1] for r in results)
    from app.core.store import open_database

    db = open_database(db_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Image)) == n
        assert s.scalar(select(func.count()).select_from(Score)) == n
    db.close()


def test_two_supervisors_saving_one_profile_at_once_both_succeed(db_url, exported_student):
    stations = [Workspace(db_url) for _ in range(4)]
    for ws in stations:
        ws.load_model(exported_student[1])
    barrier, errors = threading.Barrier(len(stations)), []

    def save(ws, i):
        barrier.wait()
        try:
            ws.set_thresholds(Thresholds(60 + i, 30), "day shift")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(ws, i)) for i, ws in enumerate(stations)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    with stations[0].db.session() as s:
        profiles = s.execute(select(ThresholdProfile.name, ThresholdProfile.active)
                             .where(ThresholdProfile.model_version_id == stations[0].model_version_id)).all()
    assert profiles == [("day shift", True)]
    for ws in stations:
        ws.close()
