"""The Training panel with the real pipeline in a real separate process: fine-tune, watch the
curves, cancel, and switch between model versions (roll back) from the main window."""
import sys
import time

import pytest
from PySide6.QtCore import QSettings, Qt

from app.core.store import open_database
from app.core.store.repository import model_versions
from app.core.training_state import training_state
from app.ui.training_panel import TrainingPanel
from tests.conftest import ship_for_tests


def _panel(qtbot, rated_site, tmp_path):
    db_path, base, cfg = rated_site
    db = open_database(db_path)
    panel = TrainingPanel(db.url, base, tmp_path / "runs", python_setting=sys.executable, config=cfg)
    qtbot.addWidget(panel)
    # The panel reads nothing itself: what the training controller does, done here by hand.
    panel.show_state(training_state(db, cfg))
    panel.finished.connect(lambda _: panel.show_state(training_state(db, cfg)))
    panel.epochs.setValue(2)
    return panel, db


@pytest.mark.slow
def test_fine_tune_runs_in_its_own_process_and_registers_a_version(qtbot, rated_site, tmp_path):
    panel, db = _panel(qtbot, rated_site, tmp_path)
    ticks = []
    timer_started = time.monotonic()
    from PySide6.QtCore import QTimer

    beat = QTimer()
    beat.timeout.connect(lambda: ticks.append(time.monotonic()))
    beat.start(50)
    with qtbot.waitSignal(panel.finished, timeout=240_000) as done:
        panel.start()
        assert panel.is_running() and not panel.start_button.isEnabled()
    beat.stop()
    assert done.args == [True], panel.status.text()
    # The window kept handling events while the process trained: the 50 ms timer kept beating.
    gaps = [b - a for a, b in zip([timer_started] + ticks, ticks)]
    assert len(ticks) > 20 and max(gaps) < 2.0
    assert "held-out site SRCC" in panel.status.text()
    assert len(panel.plot.series["val SRCC"]) == 2 and len(panel.plot.series["loss"]) == 2
    assert db.url not in " ".join(panel.job.command())  # handed over in the environment
    versions = model_versions(db)
    new = [v for v in versions if "+site." in v.version]
    assert len(new) == 1 and new[0].srcc_after is not None
    # Made at this station: it runs here without anyone approving it.
    from app.core.workspace import Workspace

    ws = Workspace(db.url)
    try:
        assert "+site." in ws.load_model(new[0].path).version
    finally:
        ws.close()
    assert panel.table.rowCount() == len(versions)
    db.close()


@pytest.mark.slow
def test_cancel_stops_the_process_and_changes_nothing(qtbot, rated_site, tmp_path):
    panel, db = _panel(qtbot, rated_site, tmp_path)
    panel.epochs.setValue(50)
    before = model_versions(db)
    with qtbot.waitSignal(panel.finished, timeout=60_000) as done:
        panel.start()
        qtbot.wait(3000)  # mid-way: the process is importing torch or already training
        panel.cancel()
    assert done.args == [False]
    assert not panel.is_running() and panel.start_button.isEnabled()
    assert "Cancelled" in panel.status.text()
    assert model_versions(db) == before
    assert panel.job.report() is None
    db.close()


def test_frozen_build_without_a_training_python_says_what_to_install(qtbot, rated_site, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("MOBILEIQA_TRAINING_PYTHON", raising=False)
    db_path, base, cfg = rated_site
    db = open_database(db_path)
    panel = TrainingPanel(db.url, base, tmp_path / "runs")
    panel.show_state(training_state(db))
    qtbot.addWidget(panel)
    assert not panel.start_button.isEnabled()
    assert "requirements/training.txt" in panel.python_label.text()
    db.close()


def test_switching_versions_from_the_panel_and_rolling_back(qtbot, exported_student, tmp_path):
    import torch

    from app.ui.main_window import MainWindow
    from models import create_model
    from training.export import export_model

    torch.manual_seed(1)
    other, other_card = export_model(create_model("student", weights=None).eval(), tmp_path / "other" / "tiny-b",
                                     {"version": "0.2.0"})
    ship_for_tests(other_card)  # a second release of the program's own model
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(exported_student[1], tmp_path / "inspector.db", settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    first = window.workspace.model.onnx_path
    window.load_model(other)  # registers the second version
    window.load_model(first)
    window.open_training()
    panel = window.training
    rows = {panel.table.item(r, 1).text(): r for r in range(panel.table.rowCount())}
    assert set(rows) == {"0.0.0", "0.2.0"}

    panel.table.selectRow(rows["0.2.0"])
    panel.use_button.click()
    assert window.workspace.model.onnx_path == other
    active = {v.version: v.active for v in model_versions(window.workspace.db)}
    assert active == {"0.0.0": False, "0.2.0": True}

    rows = {panel.table.item(r, 1).text(): r for r in range(panel.table.rowCount())}
    panel.table.selectRow(rows["0.0.0"])  # roll back
    panel.use_button.click()
    assert window.workspace.model.onnx_path == first
    assert {v.version: v.active for v in model_versions(window.workspace.db)} == {"0.0.0": True, "0.2.0": False}
    window.close()


def test_site_calibration_from_the_panel_rescored_gallery(qtbot, exported_student, tmp_path):
    import numpy as np
    from PIL import Image

    from app.core.labeling import LabelingSession
    from app.ui.main_window import MainWindow

    folder = tmp_path / "site"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(14):
        Image.fromarray(np.clip(rng.normal(90 + 8 * i, 4 + 3 * i, (40, 48, 3)), 0, 255).astype(np.uint8)).save(folder / f"{i:02d}.png")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(exported_student[1], tmp_path / "inspector.db", settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.open_training()
    panel = window.training
    panel.fit_button.click()
    assert "Cannot calibrate" in panel.calibration_label.text()  # nothing rated yet: said, not crashed

    window.open_folder(folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 14 and not window.is_busy(), timeout=30000)
    raw = {it.path: it.score for it in window.model.items}
    for rater in ("a", "b", "c"):  # the site's raters prefer the reverse of the model's order
        session = LabelingSession(window.workspace.db, rater, "site", list(raw))
        while (item := session.current()) is not None:
            session.vote(5 - int(4 * sorted(raw.values()).index(raw[item.path]) / 13))
    panel.fit_button.click()
    assert "it helps" in panel.calibration_label.text() and panel.apply_button.isEnabled()
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=10000)
    panel.apply_button.click()
    assert "applied" in panel.calibration_label.text()
    calibrated = {it.path: it.score for it in window.model.items}
    assert calibrated != raw
    assert window.workspace.calibration is not None
    # Everything showing a score follows: the histogram's counts and the viewer's caption.
    counts = window.panel.counts.text()
    verdicts = [window.panel.thresholds().verdict(v) for v in calibrated.values()]
    assert counts == f"pass {verdicts.count('pass')}   review {verdicts.count('review')}   fail {verdicts.count('fail')}"
    shown = window.gallery.currentIndex().data(Qt.UserRole + 1)
    qtbot.waitUntil(lambda: window.viewer.outcome.record.score == pytest.approx(calibrated[shown], abs=0.01), timeout=10000)
    # The headless scorer applies the station's calibration too.
    from app.cli import score_command

    extra = folder / "new.png"
    Image.fromarray(np.full((40, 48, 3), 128, np.uint8)).save(extra)
    assert score_command([extra], exported_student[1], str(tmp_path / "inspector.db")) == 0
    from app.core.store.repository import score_rows

    row = next(r for r in score_rows(window.workspace.db, window.workspace.model_version_id) if r["path"] == str(extra))
    expected = window.workspace.engine.score(np.full((40, 48, 3), 128, np.uint8)).score
    assert row["score"] == pytest.approx(expected, abs=0.01)
    panel.remove_button.click()
    assert {it.path: it.score for it in window.model.items} == pytest.approx(raw, abs=0.01)
    window.close()
