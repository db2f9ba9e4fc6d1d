"""The window on a shared database: archive results in its catalogue, and a supervisor's
thresholds or model version from another station reaching it within seconds."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.core.verdict import Thresholds
from app.core.workspace import Workspace

from tests.gui.conftest import settled
from tests.gui.conftest import no_database_work_on_the_gui_thread, no_unanswered_questions  # noqa: F401 (the GUI tests' guards, autouse)

from .conftest import make_folder

pytestmark = pytest.mark.gui


@pytest.fixture
def open_window(qtbot, tmp_path):
    def open_(model_path, db, poll_ms=100):
        from app.ui.main_window import MainWindow

        settings = QSettings(str(tmp_path / f"settings{len(opened)}.ini"), QSettings.IniFormat)
        w = MainWindow(Path(model_path), db, settings)
        w.station_sync.timer.setInterval(poll_ms)
        qtbot.addWidget(w)
        opened.append(w)
        qtbot.waitUntil(lambda: not w.models.busy(), timeout=30000)  # loaded (or refused) off the GUI thread
        return w

    opened = []
    yield open_
    for w in opened:
        w.cancel()


def scored_folder(qtbot, w, folder, n):
    w.recursive.setChecked(True)
    w.batch.open_folder(folder)
    qtbot.waitUntil(lambda: not w.is_busy() and len(w.model.items) == n, timeout=30000)


def test_thresholds_saved_at_another_station_reach_the_window_and_its_badges(qtbot, open_window, exported_student,
                                                                             tmp_path):
    db = tmp_path / "site.db"
    folder = tmp_path / "photos"
    n = make_folder(folder, 6, bad=0)
    w = open_window(exported_student[1], db)
    scored_folder(qtbot, w, folder, n)
    other = Workspace(db)
    other.load_model(exported_student[1])
    strict = Thresholds(99, 98)  # every photo of a random model fails
    other.set_thresholds(strict, "audit")
    qtbot.waitUntil(lambda: w.workspace.thresholds == strict, timeout=5000)
    assert w.panel.thresholds() == strict
    qtbot.waitUntil(lambda: all(it.verdict == "fail" for it in w.model.items), timeout=2000)
    assert "saved at another station" in w.statusBar().currentMessage()
    other.close()


def test_a_review_decision_made_at_another_station_shows_in_the_window(qtbot, open_window, exported_student, tmp_path):
    from app.core.outputs.reviews import add_review

    db = tmp_path / "site.db"
    folder = tmp_path / "photos"
    n = make_folder(folder, 3, bad=0)
    w = open_window(exported_student[1], db)
    scored_folder(qtbot, w, folder, n)
    other = Workspace(db)
    other.load_model(exported_student[1])
    path = w.model.items[0].path
    add_review(other.db, other.model_version_id, path, "rejected", "scratch", reviewer="inspector ana")
    qtbot.waitUntil(lambda: w.model.item(path).review is not None, timeout=5000)
    assert (w.model.item(path).review.decision, w.model.item(path).review.reviewer) == ("rejected", "inspector ana")
    other.close()


def test_a_model_version_switched_at_another_station_reaches_the_window(qtbot, open_window, exported_student,
                                                                        second_student, tmp_path):
    db = tmp_path / "site.db"
    folder = tmp_path / "photos"
    n = make_folder(folder, 4, bad=0)
    w = open_window(exported_student[1], db)
    scored_folder(qtbot, w, folder, n)
    first = {it.path: it.score for it in w.model.items}
    other = Workspace(db)
    other.load_model(second_student[0], site_choice=True)  # the supervisor's switch: the site's version now
    qtbot.waitUntil(lambda: w.workspace.model_version_id == other.model_version_id, timeout=5000)
    qtbot.waitUntil(lambda: not w.is_busy() and len(w.model.items) == n
                    and {it.path: it.score for it in w.model.items} != first, timeout=30000)  # the new model's badges
    other.close()


def test_a_station_that_cannot_load_the_site_version_keeps_its_model_and_says_so(qtbot, open_window,
                                                                                  exported_student, second_student,
                                                                                  tmp_path):
    db = tmp_path / "site.db"
    w = open_window(exported_student[1], db)
    mine = w.workspace.model_version_id
    elsewhere = tmp_path / "only-on-the-other-pc"
    elsewhere.mkdir()
    for f in (second_student[0], second_student[1]):
        shutil.copy(f, elsewhere / f.name)
    other = Workspace(db)
    other.load_model(elsewhere / second_student[0].name, site_choice=True)
    shutil.rmtree(elsewhere)  # the other station's disk, not this one's
    qtbot.waitUntil(lambda: "cannot load" in w.statusBar().currentMessage(), timeout=5000)
    assert w.workspace.model_version_id == mine
    qtbot.wait(400)  # polled again meanwhile: not asked again, the message stays
    assert w.workspace.model_version_id == mine and "cannot load" in w.statusBar().currentMessage()
    other.close()


def test_a_window_opening_joins_the_version_the_site_runs(qtbot, open_window, exported_student, second_student,
                                                          tmp_path):
    db = tmp_path / "site.db"
    supervisor = Workspace(db)
    supervisor.load_model(second_student[0], site_choice=True)
    w = open_window(exported_student[1], db)  # this station's own default is the first model
    assert w.workspace.model_version_id == supervisor.model_version_id
    supervisor.close()


def test_a_station_that_cannot_load_the_sites_version_at_start_scores_nothing_and_changes_nothing(
        qtbot, open_window, exported_student, second_student, tmp_path, monkeypatch):
    """It neither falls back to its own model (scoring the site's photos with a model nobody
    chose) nor makes its own model the site's (the other stations would follow it)."""
    from app.core.site.station_sync import site_state

    db = tmp_path / "site.db"
    elsewhere = tmp_path / "only-on-the-supervisors-pc"
    elsewhere.mkdir()
    for f in (second_student[0], second_student[1]):
        shutil.copy(f, elsewhere / f.name)
    supervisor = Workspace(db)
    supervisor.load_model(elsewhere / second_student[0].name, site_choice=True)
    chosen = site_state(supervisor.db, None).model
    shutil.rmtree(elsewhere)
    w = open_window(exported_student[1], db)
    assert w.workspace.model is None
    assert "cannot load" in w.statusBar().currentMessage() and "nothing is scored" in w.statusBar().currentMessage()
    qtbot.wait(400)  # its sync polled meanwhile
    assert site_state(supervisor.db, None).model == chosen
    folder = tmp_path / "photos"
    make_folder(folder, 2, bad=0)
    from PySide6.QtWidgets import QMessageBox

    warned = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: warned.append(title)))
    w.batch.open_folder(folder)
    assert warned == ["No model"] and not w.is_busy() and not w.model.items
    supervisor.close()


@pytest.mark.slow
def test_archive_results_show_in_the_window_catalogue_by_folder_and_verdict(qtbot, open_window, dask_client,
                                                                            exported_student, tmp_path, monkeypatch):
    """Scored by the archive on the workers; opened in the window: one sub-folder, from the
    database (no photo scored again), filtered by verdict and by review."""
    from app.archive.run import install_plugin, run_chunks
    from app.core.model.trust import admit_model
    from app.core.outputs.reviews import add_review
    from app.core.store import open_database
    from app.core.store.repository import stored_ok

    root = tmp_path / "archive"
    make_folder(root, 20, bad=0)
    db_path = tmp_path / "site.db"
    db = open_database(db_path)
    mv = admit_model(db, json.loads(exported_student[2].read_text()), str(exported_student[1]))
    install_plugin(dask_client, db.url, mv, exported_student[2], threads=1)
    assert run_chunks(dask_client, db, mv, [root], 4).scored == 20
    scores = sorted(r.score for _, r in stored_ok(db, mv).values())
    cut = round(scores[len(scores) // 2])
    folder_a = sorted(str(p.resolve()) for p in (root / "a").iterdir())
    add_review(db, mv, folder_a[0], "reviewed")
    db.close()

    import app.ui.workers as workers

    rescored = []
    real = workers.score_photo
    monkeypatch.setattr(workers, "score_photo", lambda *a, **k: rescored.append(a[1]) or real(*a, **k))
    w = open_window(exported_student[1], db_path)
    w.panel.set_thresholds(Thresholds(cut, cut))  # the supervisor's sliders, then Save
    w.profiles.save(Thresholds(cut, cut), "median")
    w.batch.open_folder(root / "a")
    qtbot.waitUntil(lambda: not w.is_busy() and len(w.model.items) == len(folder_a), timeout=30000)
    settled(qtbot, w)  # review decisions are read off the GUI thread
    assert rescored == []  # every one came from the database
    assert sorted(it.path for it in w.model.items) == folder_a
    passed = sum(1 for it in w.model.items if it.score >= cut)
    w.filter_box.setCurrentText("pass")
    assert w.proxy.rowCount() == passed
    w.filter_box.setCurrentText("fail")
    assert w.proxy.rowCount() == len(folder_a) - passed
    w.filter_box.setCurrentText("reviewed")
    assert w.proxy.rowCount() == 1
