"""The station after a program upgrade that replaced its shipped model with a version giving the
same scores: it opens on the new version with the thresholds the supervisor saved, and says so."""
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QPushButton

from app.core.verdict import Thresholds
from app.ui.main_window import MainWindow
from tests.conftest import install_in_place, scores_as
from tests.gui.conftest import model_loaded, relaunched, settled
from tests.gui.test_user_actions import answer_supervisor, choose_folder_with_ctrl_o, signed_in_with_ctrl_u


def test_after_an_upgrade_that_keeps_the_scores_the_station_opens_with_the_thresholds_the_supervisor_saved(
        qtbot, exported_student, tmp_path, monkeypatch, photo_folder):
    program = tmp_path / "program" / "models"
    shipped, card = install_in_place(exported_student, program, "0.0.1")
    w = MainWindow(shipped, tmp_path / "inspector.db", QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    model_loaded(qtbot, w)
    signed_in_with_ctrl_u(qtbot, w, monkeypatch, "Ana")  # the first: a supervisor
    answer_supervisor(monkeypatch, None)
    w.panel.pass_slider.setValue(72)
    w.panel.profile.setText("night shift")
    qtbot.mouseClick(next(b for b in w.panel.findChildren(QPushButton) if b.text() == "Save profile"), Qt.LeftButton)
    qtbot.waitUntil(lambda: "night shift" in w.panel.history.text(), timeout=10000)
    settled(qtbot, w)
    w.close()

    install_in_place(exported_student, program, "0.0.2", scores_as(card))  # the installer's work
    again = relaunched(qtbot, shipped, tmp_path)
    assert again.workspace.model.version == "0.0.2"
    assert again.panel.thresholds() == Thresholds(72, 40)
    assert again.station_status.profile.text().startswith("Thresholds: night shift")
    assert again.panel.profile.text() == "night shift"
    said = [m.text for m in again.messages.messages()]
    assert any(t.startswith("tiny v0.0.2 gives v0.0.1's scores: its thresholds 'night shift' (pass ≥ 72, fail < 40)")
               and "the site's choice of model" in t for t in said), said
    # Photos opened now (Ctrl+O) are judged by them.
    choose_folder_with_ctrl_o(again, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=60000)
    judged = [it for it in again.model.items if it.score is not None]
    assert len(judged) == 6 and all(it.verdict == Thresholds(72, 40).verdict(it.score) for it in judged)


def test_after_an_upgrade_to_other_scores_the_station_says_the_sites_model_was_replaced_and_tries_no_switch(
        qtbot, exported_student, tmp_path):
    program = tmp_path / "program" / "models"
    shipped, _ = install_in_place(exported_student, program, "0.0.1")
    w = MainWindow(shipped, tmp_path / "inspector.db", QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    model_loaded(qtbot, w)  # the first version loaded is the site's
    settled(qtbot, w)
    w.close()

    install_in_place(exported_student, program, "0.1.0")  # an upgrade with other scores, no claim
    again = relaunched(qtbot, shipped, tmp_path)
    assert again.workspace.model.version == "0.1.0" and again.panel.thresholds() == Thresholds()
    said = [m.text for m in again.messages.messages()]
    assert any(t.startswith(f"The site runs tiny v0.0.1 from {shipped}, where this program now has tiny v0.1.0")
               for t in said), said
    # The site's next poll (every 3 s) finds its version's file is the one in use: no reload, one line.
    switches = []
    again.station_sync.model_switch.connect(switches.append)
    qtbot.waitUntil(lambda: "keeping v0.1.0" in again.statusBar().currentMessage(), timeout=10000)
    assert switches == [] and again.workspace.model.version == "0.1.0"
