"""The Training panel with the real pipeline in a real separate process: fine-tune, watch the
curves, cancel, read the test figures with their n and interval, register a kept-back version,
start a new version from its parent's thresholds, and switch between model versions (roll back)
from the main window; site calibration offered only when it helps beyond noise."""
import sys
import time

import pytest
from PySide6.QtCore import QSettings, Qt

from app.core.model.contract import model_identity
from app.core.store import open_database
from app.core.store.repository import model_versions
from app.core.site.training_state import training_state
from app.ui.training_panel import TrainingPanel
from tests.conftest import ship_for_tests
from tests.gui.conftest import fine_tune_ended_with, model_loaded, settled


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
    text = panel.status.text()
    assert text.split(". ", 1)[1].startswith(("Use the new version", "Keep the current model"))  # advice first
    assert "SRCC" not in text  # the figures are the Details'
    figures = panel.status_details.text()
    assert "Site test (" in figures and "95 % paired bootstrap" in figures
    assert ("Registered as a version" in figures) == text.split(". ", 1)[1].startswith("Use the new version")
    assert ("Registered as a candidate version" in figures) == text.split(". ", 1)[1].startswith("Keep the current model")
    assert "Traceback" not in text and panel.register_button.isHidden()
    assert len(panel.plot.series["val SRCC"]) == 2 and len(panel.plot.series["loss"]) == 2
    assert db.url not in " ".join(panel.job.command())  # handed over in the environment
    versions = model_versions(db)
    new = [v for v in versions if "+site." in v.version]
    assert len(new) == 1 and new[0].srcc_after is not None and new[0].site_test_n == panel.job.report()["held_out"]
    row = panel.table.row_of(new[0].version)
    assert f"({new[0].site_test_n})" in panel.table.cell(row, "Site test SRCC before → after (n)")  # each with its n
    assert panel.table.cell(row, "LIVEC val SRCC (n)") == "–"  # no LIVEC validation claimed for a site version
    # Made at this station: it runs here without anyone approving it.
    from app.core.workspace import Workspace

    ws = Workspace(db.url)
    try:
        assert "+site." in ws.load_model(new[0].path).version
    finally:
        ws.close()
    assert panel.table.rowCount() == len(versions)
    db.close()


def test_a_fine_tune_that_fails_says_why_in_words_and_changes_nothing(qtbot, rated_site, tmp_path):
    db_path, base, cfg = rated_site
    # A training Python that ends at once the way a failed fine-tune does: a traceback, then the
    # pipeline's own "error:" line.
    fake = tmp_path / "python-that-fails"
    fake.write_text("#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho '  File \"x.py\", line 1' >&2\n"
                    "echo 'error: the station database is locked' >&2\nexit 2\n")
    fake.chmod(0o755)
    db = open_database(db_path)
    panel = TrainingPanel(db.url, base, tmp_path / "runs", python_setting=str(fake), config=cfg)
    qtbot.addWidget(panel)
    panel.show_state(training_state(db, cfg))
    before = model_versions(db)
    with qtbot.waitSignal(panel.finished, timeout=30_000) as done:
        panel.start_button.click()
    assert done.args == [False]
    assert panel.status.text() == "Fine-tuning failed (the model in use did not change): the station database is locked"
    assert not panel.is_running() and panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert model_versions(db) == before
    db.close()


def test_a_training_python_that_cannot_start_is_named_with_what_to_install(qtbot, rated_site, tmp_path):
    db_path, base, cfg = rated_site
    not_a_program = tmp_path / "python.txt"
    not_a_program.write_text("not executable")
    db = open_database(db_path)
    panel = TrainingPanel(db.url, base, tmp_path / "runs", python_setting=str(not_a_program), config=cfg)
    qtbot.addWidget(panel)
    panel.show_state(training_state(db, cfg))
    with qtbot.waitSignal(panel.finished, timeout=30_000) as done:
        panel.start_button.click()
    assert done.args == [False]
    text = panel.status.text()
    assert text.startswith(f"Fine-tuning failed (the model in use did not change): could not start {not_a_program}")
    assert "pip install -r" in text  # what a working training Python needs
    assert not panel.is_running() and panel.start_button.isEnabled()
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


def test_switching_versions_from_the_panel_and_rolling_back(qtbot, exported_student, tmp_path, monkeypatch):
    import torch
    from PySide6.QtWidgets import QMessageBox

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
    model_loaded(qtbot, window)
    first = window.workspace.model.onnx_path
    window.load_model(other)  # registers the second version (off the GUI thread)
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == other, timeout=30000)
    window.load_model(first)
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == first, timeout=30000)
    window.open_training()
    settled(qtbot, window)
    panel = window.training
    rows = {panel.table.cell(r, "Version"): r for r in range(panel.table.rowCount())}
    assert set(rows) == {"0.0.0", "0.2.0"}

    asked = []  # each switch asks, saying what changes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda parent, title, *a, **k: asked.append(title)
                                                             or QMessageBox.Yes))
    panel.table.selectRow(rows["0.2.0"])
    panel.use_button.click()
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == other, timeout=30000)
    settled(qtbot, window)
    active = {v.version: v.active for v in model_versions(window.workspace.db)}
    assert active == {"0.0.0": False, "0.2.0": True}

    panel.table.selectRow(panel.table.row_of("0.0.0"))  # roll back
    panel.use_button.click()
    qtbot.waitUntil(lambda: window.workspace.model.onnx_path == first, timeout=30000)
    settled(qtbot, window)
    assert {v.version: v.active for v in model_versions(window.workspace.db)} == {"0.0.0": True, "0.2.0": False}
    assert asked == ["Switch the model version?"] * 2
    window.close()


def test_site_calibration_from_the_panel_rescored_gallery(qtbot, exported_student, tmp_path):
    import numpy as np
    from PIL import Image

    from app.core.ratings.session import LabelingSession
    from app.ui.main_window import MainWindow

    folder = tmp_path / "site"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(14):
        Image.fromarray(np.clip(rng.normal(90 + 8 * i, 4 + 3 * i, (40, 48, 3)), 0, 255).astype(np.uint8)).save(folder / f"{i:02d}.png")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(exported_student[1], tmp_path / "inspector.db", settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    model_loaded(qtbot, window)
    window.open_training()
    panel = window.training
    panel.fit_button.click()
    settled(qtbot, window)  # fitted off the GUI thread
    assert "Cannot calibrate" in panel.calibration_label.text()  # nothing rated yet: said, not crashed

    window.batch.open_folder(folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 14 and not window.is_busy(), timeout=30000)
    raw = {it.path: it.score for it in window.model.items}
    for rater in ("a", "b", "c"):  # the site's raters prefer the reverse of the model's order
        session = LabelingSession(window.workspace.db, rater, "site", list(raw))
        while (item := session.current()) is not None:
            session.vote(5 - int(4 * sorted(raw.values()).index(raw[item.path]) / 13))
    panel.fit_button.click()
    settled(qtbot, window)
    assert panel.calibration_label.text().startswith("Apply it") and panel.apply_button.isEnabled()
    assert "it helps beyond noise" in panel.calibration_details.text()  # the figures, for Details
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=10000)
    panel.apply_button.click()
    settled(qtbot, window)
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
    settled(qtbot, window)
    assert {it.path: it.score for it in window.model.items} == pytest.approx(raw, abs=0.01)
    window.close()


# --- what the panel shows and offers, without a training process ---------------------------------
def _version(**kw):
    from datetime import datetime

    from app.core.store.repository import VersionRow

    base = dict(id=1, name="m", version="1", path="/m.onnx", registered_at=datetime(2026, 1, 1), active=False,
                srcc_before=None, srcc_after=None, val_srcc=None)
    return VersionRow(**(base | kw))


def test_the_versions_table_keeps_livec_validation_and_site_test_apart_each_with_its_n(qtbot, tmp_path):
    from app.core.site.training_state import TrainingState

    panel = TrainingPanel("sqlite://", tmp_path / "m.onnx", tmp_path / "runs", python_setting=sys.executable)
    qtbot.addWidget(panel)
    shipped = _version(id=1, name="shipped", version="0.3.0", val_srcc=0.862, val_n=140, active=True)
    site = _version(id=2, name="shipped-site-x", version="0.3.0+site.x", srcc_before=0.61, srcc_after=0.68,
                    site_test_n=12, site_gain_ci=(-0.05, 0.19), site_val_srcc=0.7, site_val_n=9)
    panel.show_state(TrainingState(30, 3, 12, [site, shipped], recipe_epochs=12))
    assert panel.epochs.value() == 12  # the recipe's epochs, until the supervisor changes them
    panel.epochs.setValue(4)
    panel.show_state(TrainingState(30, 3, 12, [site, shipped], recipe_epochs=12))
    assert panel.epochs.value() == 4
    from app.ui.training_tables import VERSION_DETAILS

    cells = {panel.table.cell(r, "Model"): [panel.table.cell(r, title) for title in VERSION_DETAILS]
             for r in range(panel.table.rowCount())}
    assert cells["shipped"] == ["0.862 (140)", "–", "–", "–"]
    assert cells["shipped-site-x"] == ["–", "0.700 (9)", "0.610 → 0.680 (12)", "+0.070 [-0.050, +0.190]"]
    # Too few ratings: said up front, the button stays off.
    assert "at least 30 photos with 3 or more votes" in panel.requirement.text()
    assert not panel.start_button.isEnabled()


def test_a_kept_back_version_is_explained_and_offered_for_registration(qtbot, tmp_path):
    panel = TrainingPanel("sqlite://", tmp_path / "m.onnx", tmp_path / "runs", python_setting=sys.executable)
    qtbot.addWidget(panel)
    report = {"before": {"srcc": 0.8, "plcc": 0.8, "n": 8}, "after": {"srcc": 0.2, "plcc": 0.3, "n": 8}, "held_out": 8,
              "test": {"n": 8, "gain": -0.6, "gain_ci": [-1.0, -0.2]}, "validation": {"n": 5, "epoch": 2, "srcc": 0.9,
              "epochs_run": 3}, "split": {"counts": {"train": 17, "val": 5, "test": 8}}, "registered": False,
              "decision": "not registered: worse than the current version beyond noise", "model": str(tmp_path / "new.onnx")}
    assert fine_tune_ended_with(qtbot, panel, tmp_path, report) is False
    text, figures = panel.status.text(), panel.status_details.text()
    assert "SRCC 0.800 → 0.200, gain -0.600 [-1.000, -0.200]" in figures and "8 photos never trained on" in figures
    assert "Epoch 2 of 3 was chosen on 5 validation photos" in figures
    assert "Not registered: worse" in text and not panel.register_button.isHidden()
    with qtbot.waitSignal(panel.register_requested) as asked:
        panel.register_button.click()
    assert asked.args == [report]


def done(qtbot, controller) -> None:
    """The controller's database work runs off the GUI thread: wait for its answers."""
    qtbot.waitUntil(lambda: not controller.tasks.busy(), timeout=30000)


@pytest.fixture
def controlled(exported_student, tmp_path, qtbot):
    from unittest.mock import MagicMock

    from app.core.workspace import Workspace
    from app.ui.training_controller import TrainingController

    ws = Workspace(tmp_path / "station.db")
    ws.load_model(exported_student[1])
    panel = MagicMock(spec=TrainingPanel)
    panel.python = None  # no training Python: the pipeline check is the training-setup tests' subject
    controller = TrainingController(ws, tmp_path / "runs", QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                                    panel_factory=lambda *a, **k: panel)
    controller.open()
    done(qtbot, controller)
    yield controller, panel, ws
    controller.tasks.drain()
    ws.close()


def _child_of(exported_student, tmp_path, name="tiny-site-a"):
    """A version fine-tuned from the tiny student (its card names the parent)."""
    import torch

    from app.core.model.loader import load_model
    from models import create_model
    from training.export import annotate_card, export_model

    torch.manual_seed(5)
    onnx, card = export_model(create_model("student", weights=None).eval(), tmp_path / "v" / name, {"version": "0.0.0+site.a"})
    parent = load_model(exported_student[1]).card
    annotate_card(card, {"parent": {"name": parent["name"], "version": parent["version"], "sha256": parent["sha256"],
                                    "identity": model_identity(parent)}})
    return onnx


def test_a_new_version_starts_from_its_parents_thresholds_when_the_supervisor_agrees(controlled, exported_student, tmp_path,
                                                                                   qtbot):
    from app.core.model.loader import load_model
    from app.core.verdict import Thresholds
    from app.core.store.repository import active_thresholds, register_model

    controller, panel, ws = controlled
    ws.set_thresholds(Thresholds(70.0, 45.0), "site")
    child = _child_of(exported_student, tmp_path)
    child_id = register_model(ws.db, load_model(child).card, str(child), origin="fine-tuned", approved_by="fine-tune")
    panel.confirm.return_value = True
    controller.switch_model(str(child))
    done(qtbot, controller)
    title, question = panel.confirm.call_args.args
    assert "pass ≥ 70, fail < 45" in question and "No keeps the defaults" in question
    assert active_thresholds(ws.db, child_id) == Thresholds(70.0, 45.0)
    panel.confirm.reset_mock()
    controller.switch_model(str(child))  # it has its own now: not asked again
    done(qtbot, controller)
    panel.confirm.assert_not_called()


def test_the_supervisor_registers_a_kept_back_version_with_their_name(controlled, exported_student, tmp_path, qtbot):
    from app.core.model.loader import load_model
    from app.core.model.trust import admit_model

    controller, panel, ws = controlled
    child = _child_of(exported_student, tmp_path, "tiny-site-b")
    report = {"model": str(child), "test": {"gain": -0.4, "gain_ci": [-0.9, -0.1]}, "decision": "not registered: worse"}
    panel.confirm.return_value = False
    controller.register_kept_back(report)
    assert all(v.path != str(child) for v in model_versions(ws.db))  # No: nothing registered
    panel.confirm.return_value = True
    controller.register_kept_back(report)
    done(qtbot, controller)
    row = next(v for v in model_versions(ws.db) if v.path == str(child))
    assert "registered against the fine-tune's test result (gain -0.400 [-0.900, -0.100])" in row.approved_by
    assert admit_model(ws.db, load_model(child).card, str(child)) == row.id  # trusted from now on
    panel.show_kept_back.assert_called_with(None)


def scored_site(ws, folder, count: int, brightness, spread) -> dict[str, float]:
    """``count`` generated photos written to ``folder`` and scored into the station's database
    (photo i: grey level ``brightness(i)``, noise ``spread(i)``): {path: raw score}."""
    import numpy as np
    from PIL import Image

    from app.core.scoring.photo import score_batch
    from app.core.store.schema import Score

    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        paths.append(folder / f"{i:03d}.png")
        pixels = rng.normal(brightness(i), spread(i), (40, 48, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(paths[-1])
    score_batch(paths, ws.engine, ws.db, ws.model_version_id)
    with ws.db.session() as s:
        return {r.image.path: r.raw_score for r in s.query(Score).all()}


def test_calibration_that_does_not_help_beyond_noise_is_not_offered(controlled, tmp_path, qtbot):
    from app.core.ratings.session import LabelingSession

    controller, panel, ws = controlled
    raw = scored_site(ws, tmp_path / "site", 16, lambda i: 90 + 8 * i, lambda i: 4 + 3 * i)
    order = sorted(raw, key=raw.get)
    for rater in ("a", "b", "c"):  # the raters agree with the model's order
        session = LabelingSession(ws.db, rater, "site", order)
        while (item := session.current()) is not None:
            session.vote(1 + (4 * order.index(item.path)) // 15)
    controller.fit_calibration()
    done(qtbot, controller)
    text, can_apply = panel.show_calibration.call_args.args
    figures = panel.show_calibration.call_args.kwargs["details"]
    assert can_apply is False and text.startswith("No need to apply it") and "SRCC" not in text
    assert "not shown to help" in figures
    assert "nested 5-fold" in figures and "with 3 or more votes" in figures and "95 % paired bootstrap" in figures


def test_raters_who_only_seem_to_rank_the_other_way_are_not_turned_around(controlled, tmp_path, qtbot):
    """Votes that weakly reverse the model's order on 150 photos: a reversing map would gain
    beyond the 95 % rule, but the model's SRCC is not below 0 surely enough to turn it around."""
    import numpy as np

    from app.core.calibration.fitted import reversal_bar
    from app.core.ratings.session import LabelingSession

    controller, panel, ws = controlled
    raw = scored_site(ws, tmp_path / "site", 150, lambda i: 60 + i, lambda i: 3 + (i * 7) % 60)
    order = sorted(raw, key=raw.get)
    votes = np.random.default_rng(3)
    opinion = {p: -0.3 * (order.index(p) - 75) / 43 + votes.normal() for p in raw}
    for rater in ("a", "b", "c"):
        session = LabelingSession(ws.db, rater, "site", order)
        while (item := session.current()) is not None:
            session.vote(int(np.clip(round(3 + 1.1 * opinion[item.path] + votes.normal(0, 0.3)), 1, 5)))
    controller.fit_calibration()
    done(qtbot, controller)
    c = controller.candidate
    assert reversal_bar(150) < c.base_srcc < 0 and c.reverses and c.gain_ci[0] > 0  # the 95 % rule alone: Apply
    text, can_apply = panel.show_calibration.call_args.args
    figures = panel.show_calibration.call_args.kwargs["details"]
    assert can_apply is False and text.startswith("Do not apply it yet") and "swapped" in text
    assert "would have to lie below -0.28" in figures


def test_the_curves_show_each_epoch_as_it_ends_while_the_run_goes_on(qtbot, tmp_path):
    """The run's history is read when its output says a new epoch began, not on a timer."""
    panel = TrainingPanel("sqlite://", tmp_path / "m.onnx", tmp_path / "runs", python_setting=sys.executable)
    qtbot.addWidget(panel)
    go_on = tmp_path / "go-on"
    python = tmp_path / "python-that-trains-slowly"
    python.write_text(
        '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done\n'
        'mkdir -p "$out/run"\necho "epoch 1/2: 50%" >&2\n'
        'printf "epoch,loss_total,val_srcc\\n1,0.9,0.41\\n" > "$out/run/history.csv"\n'
        'echo "epoch 2/2: 0%" >&2\n'
        f'while [ ! -f "{go_on}" ]; do sleep 0.1; done\n'
        'printf "2,0.7,0.52\\n" >> "$out/run/history.csv"\nexit 3\n')
    python.chmod(0o755)
    panel.python = str(python)
    panel.start()
    qtbot.waitUntil(lambda: panel.plot.series.get("val SRCC") == [0.41], timeout=10_000)
    assert panel.run.is_running() and panel.progress.format().startswith("epoch 2/2")
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        go_on.write_text("")
    assert panel.plot.series["val SRCC"] == [0.41, 0.52]  # the last epoch, read as the run ended
