"""A station an inspector works a shift at: the EXIF panel, the message log, and a model switch
that says what it changes. Driven as a person does: menu actions and keys on the real window,
dialogs answered here, real files on disk."""
import threading

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import model_loaded, settled
from tests.gui.test_user_actions import (
    action_for,
    answer_supervisor,
    choose_folder_with_ctrl_o,
    reject_the_first_scored_photo,
    signed_in_with_ctrl_u,
)

pytestmark = pytest.mark.gui


def phone_photo(path, iso=3200, exposure=(1, 15)) -> None:
    """A JPEG as a phone writes it: camera and date in IFD0, exposure and lens in the Exif sub-IFD."""
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Acme", "Acme Phone 7", "2026:11:30 10:15:00"
    sub = exif.get_ifd(0x8769)
    sub[0x8827], sub[0x829A], sub[0x829D] = iso, IFDRational(*exposure), IFDRational(18, 10)
    sub[0x920A], sub[0xA405] = IFDRational(42, 10), 26
    sub[0x9003], sub[0xA434] = "2026:11:30 10:14:59", "Acme back camera 4.2mm f/1.8"
    img.save(path, exif=exif)


def exif_folder(tmp_path):
    folder = tmp_path / "exif"
    folder.mkdir()
    phone_photo(folder / "a_phone.jpg")
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(folder / "b_plain.png")  # no EXIF
    return folder


def select(qtbot, window, name: str) -> None:
    from app.ui.gallery import PathRole

    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(PathRole).endswith(name))
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))


def test_the_exif_panel_shows_iso_and_shutter_first_says_when_there_is_none_and_is_remembered(
        qtbot, window, exported_student, tmp_path, monkeypatch):
    from app.ui import navigation
    from app.ui.main_window import MainWindow

    threads = []
    real_read = navigation.read_exif
    monkeypatch.setattr(navigation, "read_exif", lambda path: threads.append(threading.current_thread()) or
                        real_read(path))
    window.show()
    choose_folder_with_ctrl_o(window, monkeypatch, exif_folder(tmp_path))
    qtbot.waitUntil(lambda: len(window.model.items) == 2 and not window.is_busy(), timeout=30000)
    panel = window.exif_panel
    assert window.exif_dock.isVisible()  # open on a first launch
    select(qtbot, window, "a_phone.jpg")
    qtbot.waitUntil(lambda: panel.iso.text() == "3200", timeout=10000)
    assert panel.shutter.text() == "1/15 s" and panel.iso.font().pointSizeF() > panel.camera.font().pointSizeF()
    assert "noise" in panel.iso_hint.text() and "blur" in panel.shutter_hint.text()
    assert (panel.camera.text(), panel.lens.text(), panel.aperture.text(), panel.focal.text(), panel.taken.text()) == \
        ("Acme Phone 7", "Acme back camera 4.2mm f/1.8", "f/1.8", "4.2 mm (26 mm in 35 mm terms)",
         "2026-11-30 10:14:59")
    assert threads and threading.main_thread() not in threads  # read off the GUI thread

    select(qtbot, window, "b_plain.png")
    qtbot.waitUntil(lambda: panel.note.isVisible(), timeout=10000)
    assert panel.note.text().startswith("No EXIF in this photo") and not panel.details.isVisible() and "b_plain.png" in panel.title.text()

    action_for(window, "Ctrl+Shift+E").trigger()  # closed from the View menu
    qtbot.waitUntil(lambda: not window.exif_dock.isVisible(), timeout=5000)
    read = len(threads)
    select(qtbot, window, "a_phone.jpg")
    settled(qtbot, window)
    assert len(threads) == read  # a closed panel reads nothing
    window.close()

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    again = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(again)
    again.show()
    model_loaded(qtbot, again)
    assert not again.exif_dock.isVisible()  # closed it stays, across a relaunch
    qtbot.waitUntil(lambda: again.gallery.currentIndex().isValid() and not again.is_busy(), timeout=30000)
    action_for(again, "Ctrl+Shift+E").trigger()  # opened again: it reads the photo in the viewer
    qtbot.waitUntil(lambda: again.exif_panel.iso.text() == "3200", timeout=10000)
    again.close()


def test_errors_and_warnings_the_status_bar_said_are_listed_with_their_time(qtbot, window, photo_folder, tmp_path,
                                                                              monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from app.ui import batch_outputs

    window.show()
    window.watch.setChecked(True)  # a watched folder: a photo deleted mid-batch is seen
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)  # broken.jpg cannot be read
    qtbot.waitUntil(lambda: len(window.model.items) == 7, timeout=30000)
    (photo_folder / "p5.png").unlink()
    qtbot.waitUntil(lambda: len(window.model.items) == 6, timeout=30000)
    window.cancel()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30000)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(batch_outputs, "write_scores_csv", disk_full)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(tmp_path / "s.csv"), "")))
    action_for(window, "Ctrl+E").trigger()
    settled(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Nothing exported")  # the latest, as before
    window.statusBar().showMessage("Scoring something else…")  # the inspector looked away: it is gone

    assert not window.messages_dock.isVisible()
    action_for(window, "Ctrl+Shift+L").trigger()
    qtbot.waitUntil(lambda: window.messages_dock.isVisible(), timeout=5000)
    rows = window.messages_dock.widget().rows()
    texts = [text for _time, _kind, text in rows]
    assert texts[0].startswith("Nothing exported") and "No space left" in texts[0] and rows[0][1] == "error"
    assert any("p5.png was deleted" in t for t in texts)
    assert any("broken.jpg" in t for t in texts)  # the photo that cannot be read
    assert all(len(time) == 8 and time[2] == ":" for time, _kind, _text in rows)  # HH:MM:SS
    assert not any("Scoring" in t for t in texts)  # progress is no warning


def test_switching_the_model_version_says_what_changes_and_no_keeps_the_model(qtbot, window, photo_folder,
                                                                               tmp_path, monkeypatch):
    import torch
    from PySide6.QtWidgets import QFileDialog

    from models import create_model
    from tests.conftest import ship_for_tests
    from training.export import export_model

    torch.manual_seed(3)
    other, card = export_model(create_model("student", weights=None).eval(), tmp_path / "other" / "tiny-v2",
                               {"version": "2.0.0"})
    ship_for_tests(card)  # a version this station trusts: the question is the switch's alone
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    _row, rejected = reject_the_first_scored_photo(qtbot, window, monkeypatch, "smudge")
    before = window.workspace.model.version
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), "")))
    asked, answers = [], [QMessageBox.No, QMessageBox.Yes]

    def question(parent, title, text, *args, **kwargs):
        asked.append((title, text))
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    action_for(window, "Ctrl+M").trigger()
    settled(qtbot, window)
    assert len(asked) == 1
    title, text = asked[0]
    assert "switch" in title.lower() and "tiny-v2" in text
    assert "7 photos" in text and "verdicts" in text and "recomputed from the new scores" in text
    assert "1 inspector decision" in text and "kept" in text and "content" in text
    assert window.workspace.model.version == before and not window.models.busy()
    assert window.statusBar().currentMessage().startswith("Not switched")

    action_for(window, "Ctrl+M").trigger()
    qtbot.waitUntil(lambda: window.workspace.model.version == "2.0.0", timeout=30000)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    settled(qtbot, window)
    assert len(asked) == 2 and not answers
    assert window.model.item(rejected).decision == "rejected"  # kept under the new version


def test_the_thresholds_panel_lists_each_saved_profile_with_who_saved_it_and_when(qtbot, window, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    panel = window.panel
    settled(qtbot, window)
    assert panel.history.text().startswith("None saved yet: the defaults are in force")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")  # the first: a supervisor
    asked = answer_supervisor(monkeypatch, None)
    save = next(b for b in panel.findChildren(QPushButton) if b.text() == "Save profile")
    panel.pass_slider.setValue(70)
    panel.profile.setText("night shift")
    qtbot.mouseClick(save, Qt.LeftButton)
    qtbot.waitUntil(lambda: "night shift" in panel.history.text(), timeout=10000)
    panel.pass_slider.setValue(65)
    panel.profile.setText("day shift")
    qtbot.mouseClick(save, Qt.LeftButton)
    qtbot.waitUntil(lambda: "day shift" in panel.history.text(), timeout=10000)
    latest, older = panel.history.text().splitlines()
    assert latest.startswith("\u2022 \u201cday shift\u201d (in force): pass at 65 or more, fail below 40. Saved by Ana on ")
    assert older.startswith("\u2022 \u201cnight shift\u201d: pass at 70 or more") and "Saved by Ana on" in older
    assert not asked
