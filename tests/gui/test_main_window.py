"""End-to-end through the real widgets: the inspector's daily path."""
import csv
import sqlite3

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import model_loaded, settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def _wait_scored(qtbot, window, n):
    qtbot.waitUntil(lambda: len(window.model.items) == n and not window.is_busy(), timeout=30000)


def test_folder_to_viewer_to_thresholds_to_csv(qtbot, window, photo_folder, tmp_path):
    assert "Model tiny" in window.statusBar().currentMessage()
    window.batch.open_folder(photo_folder)
    _wait_scored(qtbot, window, 7)

    # Thumbnails with score badges; the corrupt file is listed with its status, not skipped.
    items = {it.path.rsplit("/", 1)[1]: it for it in window.model.items}
    assert items["broken.jpg"].status == "truncated" and items["broken.jpg"].score is None
    assert all(not window.model.icon(items[f"p{i}.png"]).isNull() for i in range(6))
    label = window.proxy.index(0, 0).data(Qt.DisplayRole)
    assert any(v in label for v in ("PASS", "REVIEW", "FAIL", "TRUNCATED"))

    # Open the viewer on a photo and switch overlays.
    window.filter_box.setCurrentText("all")
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(Qt.UserRole + 1).endswith("p3.png"))
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    qtbot.waitUntil(lambda: window.viewer.outcome is not None and window.viewer.outcome.record.path.endswith("p3.png"), timeout=10000)
    assert window.viewer.info.text().startswith("Score")
    plain = window.viewer.composed().copy()
    from app.ui.viewer import DISTORTION, IN_SCORE, NATIVE

    window.viewer.overlay_box.setCurrentText(DISTORTION)
    assert not np.array_equal(window.viewer.composed(), plain)
    # The native damage map arrives after the score, from the viewer's own background job.
    qtbot.waitUntil(lambda: window.viewer.native is not None or "failed" in window.viewer.info.text(), timeout=10000)
    assert window.viewer.native is not None, window.viewer.info.text()
    window.viewer.overlay_box.setCurrentText(NATIVE)
    tiles = window.viewer.composed().copy()
    assert not np.array_equal(tiles, plain)
    assert "computing map" not in window.viewer.info.text()
    window.viewer.overlay_box.setCurrentText(IN_SCORE)  # the same pass's other map
    assert window.viewer.composed().shape == plain.shape and not np.array_equal(window.viewer.composed(), plain)
    window.viewer.overlay_box.setCurrentText("Attention view 2")
    assert window.viewer.composed().shape == plain.shape

    # Move a threshold: the counts change, and so do the gallery's verdicts.
    scores = sorted(window.model.scores())
    window.panel.fail_slider.setValue(0)
    window.panel.pass_slider.setValue(0)
    assert window.panel.counts.text() == "pass 6   review 0   fail 0"
    window.panel.pass_slider.setValue(100)
    window.panel.fail_slider.setValue(int(np.ceil(scores[-1])) + 1 if scores[-1] < 99 else 100)
    assert window.panel.counts.text() == "pass 0   review 0   fail 6"
    assert {it.verdict for it in window.model.items if it.score is not None} == {"fail"}

    # Filtering by verdict and by errors.
    window.filter_box.setCurrentText("errors")
    assert window.proxy.rowCount() == 1
    window.filter_box.setCurrentText("fail")
    assert window.proxy.rowCount() == 6

    # Saving the profile recomputes stored verdicts; export writes every row.
    window.profiles.save(window.panel.thresholds(), "strict")
    out = tmp_path / "scores.csv"
    window.outputs.export_csv(out)  # after the save: the window's background work runs in order
    settled(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Exported 7 photos")
    with open(out, newline="", encoding="utf-8-sig") as f:  # the CSV starts with a BOM
        rows = list(csv.DictReader(f))
    assert len(rows) == 7
    assert {r["verdict"] for r in rows if r["status"] == "ok"} == {"fail"}
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select count(*) from scores where verdict = 'fail'").fetchone()[0] == 6
    window.outputs.export_report(tmp_path / "report.html")  # written in the background
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote report"), timeout=30000)
    assert "The 6 worst photos" in (tmp_path / "report.html").read_text()


def test_sorting_by_score_and_keyboard_navigation(qtbot, window, photo_folder):
    window.batch.open_folder(photo_folder)
    _wait_scored(qtbot, window, 7)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("score")
    window.descending.setChecked(True)
    shown = [window.proxy.index(r, 0).data(Qt.UserRole + 2) for r in range(window.proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.keyClick(window.viewer, Qt.Key_Right)
    assert window.gallery.currentIndex().row() == 1
    qtbot.keyClick(window.viewer, Qt.Key_Left)
    assert window.gallery.currentIndex().row() == 0
    window.navigation.next_unreviewed()
    assert window.gallery.currentIndex().row() == 2


def test_a_bad_model_is_refused_and_the_good_one_kept(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from PySide6.QtWidgets import QMessageBox

    (tmp_path / "bad.json").write_text("{}")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(tmp_path / "bad.json"), "")))
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda parent, title, *a, **k: asked.append(title) or QMessageBox.Yes))
    action_for(window, "Ctrl+M").trigger()
    assert asked == ["Switch the model version?"]  # the supervisor says yes; the file is then refused
    qtbot.waitUntil(lambda: "Model refused" in window.statusBar().currentMessage(), timeout=20000)
    message = window.statusBar().currentMessage()
    assert "Model refused" in message and "Keeping tiny" in message
    assert window.workspace.model.name == "tiny"


def test_window_stays_responsive_and_can_cancel(qtbot, window, photo_folder):
    import time

    from PySide6.QtCore import QTimer

    window.watch.setChecked(True)  # would run forever: only cancel ends it
    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) >= 1, timeout=20000)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    qtbot.wait(1000)  # the batch keeps watching meanwhile
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) >= 10 and max(gaps) < 1.0  # the GUI thread kept serving its timer
    assert window.is_busy()
    window.cancel_button.click()
    assert not window.is_busy() and not window.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.tasks.threads_working() == 0, timeout=10000)  # the worker's thread really ended


def test_settings_remember_the_model_and_last_folder(qtbot, window, photo_folder):
    window.batch.open_folder(photo_folder)
    _wait_scored(qtbot, window, 7)
    window.rating.open_labeling("The photos in the gallery")
    assert len(window.labeling.photos) == 6  # the corrupt file is not offered for rating
    window.labeling.close()
    # A selection over every scored photo: the most uncertain first, as many as asked.
    window.rating.open_labeling("Most uncertain first (the model's views disagree)", 3)  # chosen off the GUI thread
    qtbot.waitUntil(lambda: len(window.labeling.photos) == 3, timeout=20000)
    spread = {it.path: float(np.std(it.opinions)) for it in window.model.items if it.status == "ok"}
    assert min(spread[p] for p in window.labeling.photos) >= sorted(spread.values())[-3]
    window.labeling.close()
    assert window.settings.value("last_folder") == str(photo_folder)
    assert window.settings.value("model_path").endswith("tiny.onnx")


def test_watching_picks_up_new_photos_and_renames_without_rescoring(qtbot, window, photo_folder):
    import shutil
    import sqlite3

    window.watch.setChecked(True)
    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7, timeout=30000)
    shutil.copy(photo_folder / "p1.png", photo_folder / "late.png")
    qtbot.waitUntil(lambda: any(it.path.endswith("late.png") for it in window.model.items), timeout=20000)
    (photo_folder / "p2.png").rename(photo_folder / "p2-renamed.png")
    qtbot.waitUntil(lambda: any(it.path.endswith("p2-renamed.png") for it in window.model.items), timeout=20000)
    assert len(window.model.items) == 8 and not any(it.path.endswith("/p2.png") for it in window.model.items)
    window.cancel()
    db = window.workspace.db.url.split("///", 1)[1]
    with sqlite3.connect(db) as c:
        paths = [r[0] for r in c.execute("select path from images")]
    assert any(p.endswith("p2-renamed.png") for p in paths) and not any(p.endswith("/p2.png") for p in paths)
    assert len(paths) == 8


def test_a_new_photo_touches_only_its_own_row(qtbot, window):
    """At thousands of photos, refreshing every row (and the histogram) per arriving photo made
    the window quadratic and let the gallery fall minutes behind the database (load test)."""
    from app.core.store.repository import ScoreRecord

    refreshed = []
    window.model.dataChanged.connect(lambda first, last: refreshed.append(last.row() - first.row() + 1))
    for i in range(60):
        window.batch._add(ScoreRecord(f"/p/{i:02d}.jpg", "ok", float(i), [i, i, i]), None)
    assert len(window.model.items) == 60 and sum(refreshed) == 0
    t = window.panel.thresholds()
    assert all(it.verdict == t.verdict(it.score) for it in window.model.items)
    # The histogram and counts catch up within a quarter second, not per photo.
    counts = {v: sum(it.verdict == v for it in window.model.items) for v in ("pass", "review", "fail")}
    expected = f"pass {counts['pass']}   review {counts['review']}   fail {counts['fail']}"
    qtbot.waitUntil(lambda: window.panel.counts.text() == expected, timeout=2000)


def test_a_home_folder_that_cannot_hold_the_database_asks_for_another_and_the_window_opens(
        qtbot, exported_student, tmp_path, monkeypatch):
    """A station PC whose data folder is read-only (or not a folder): the person is told why in one
    sentence and may choose another folder; the window then opens on a database there."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from app.ui.launch import open_window

    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "home" / "inspector.db"  # its folder cannot be made: a file is in the way
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append(text) or QMessageBox.Yes))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(elsewhere)))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    window = open_window(exported_student[1], blocked, settings)
    assert window is not None
    qtbot.addWidget(window)
    assert len(asked) == 1 and str(blocked) in asked[0] and "Not a directory" in asked[0]
    assert "Traceback" not in asked[0]
    assert (elsewhere / "inspector.db").is_file()
    window.close()


def test_declining_another_data_folder_ends_the_program_with_nothing_written(exported_student, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from app.ui.launch import open_window

    (tmp_path / "a-file").write_text("")
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.No))
    assert open_window(exported_student[1], tmp_path / "a-file" / "home" / "inspector.db") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_damaged_database_is_refused_with_its_reason_and_nothing_written(exported_student, tmp_path, monkeypatch):
    """Issue 21, 15: pages put back from an older copy (each well formed) opened a window that
    would write into the file. It is refused at start with why, and not a byte is written."""
    from PySide6.QtWidgets import QMessageBox

    from app.ui.launch import open_window
    from tests.stale_pages import station_file_with_stale_index_pages

    path = tmp_path / "station.db"
    damaged = station_file_with_stale_index_pages(path)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append(text) or QMessageBox.No))
    assert open_window(exported_student[1], path) is None
    [text] = asked
    assert "the file is damaged" in text and "restore it from a backup" in text and "Traceback" not in text
    assert path.read_bytes() == damaged


def test_a_second_window_of_the_station_opens_beside_the_first_not_on_top(qtbot, window, exported_student, tmp_path):
    from PySide6.QtCore import QSettings

    from app.ui.main_window import SECOND_WINDOW_OFFSET, MainWindow

    def another():
        w = MainWindow(exported_student[1], tmp_path / "inspector.db",
                       QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
        qtbot.addWidget(w)
        model_loaded(qtbot, w)
        return w

    window.move(100, 80)
    window.close()  # its place is remembered
    first = another()
    second = another()  # the station's first window is still open
    assert second.pos() - first.pos() == QPoint(SECOND_WINDOW_OFFSET, SECOND_WINDOW_OFFSET)
    second.close()
    first.close()
    third = another()  # none open: the remembered place
    assert third.pos() == first.pos()
    third.close()
