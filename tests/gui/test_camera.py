"""The camera as a batch of its own beside the folder's, driven as an inspector does: File → Open
camera, Space to capture, the tabs (Alt+1, Alt+2) to switch, a relaunch on the same home. A
small generated MJPG video stands in for the camera."""
import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QInputDialog

from tests.gui.conftest import model_loaded, settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def write_video(path, frames: int, fps: int = 25):
    """A moving disc on a changing background: every frame differs, as a camera's do."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    assert writer.isOpened()
    for i in range(frames):
        frame = np.full((120, 160, 3), 40 + i % 150, np.uint8)
        cv2.circle(frame, (20 + i % 120, 60), 15, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def video(tmp_path):
    return write_video(tmp_path / "camera.avi", 40)


@pytest.fixture
def long_video(tmp_path):
    return write_video(tmp_path / "long.avi", 250)  # 10 s at 25 fps: still running while the test captures


def start_camera_from_the_menu(qtbot, window, monkeypatch, spec) -> None:
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: (str(spec), True)))
    action_for(window, "Ctrl+K").trigger()


def live(qtbot, window) -> None:
    """The preview shows the camera's picture."""
    qtbot.waitUntil(lambda: not window.camera_panel.preview.pixmap().isNull(), timeout=15000)


def press_space(qtbot, window) -> None:
    qtbot.keyClick(window.gallery, Qt.Key_Space)


def captured(qtbot, window, n: int) -> None:
    """Space, then wait for the frame to be scored into the camera's batch."""
    before = len(window.camera.model.items)
    press_space(qtbot, window)
    qtbot.waitUntil(lambda: len(window.camera.model.items) == before + 1, timeout=15000)
    assert len(window.camera.model.items) == n


def shown_window(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # shortcuts reach the active window only
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)


def spy_on_scoring(monkeypatch) -> list:
    """The names of the photos the window scores from now on (folder batches and camera frames)."""
    from app.ui import workers

    scored, real = [], workers.score_photo

    def score_photo(engine, path, *args, **kwargs):
        scored.append(path.name)
        return real(engine, path, *args, **kwargs)

    monkeypatch.setattr(workers, "score_photo", score_photo)
    return scored


def folder_state(window):
    return sorted((it.path, it.score, it.verdict) for it in window.folder_model.items)


def test_the_camera_from_its_menu_shows_a_live_preview_and_space_captures_into_its_own_batch_beside_the_folders(
        qtbot, window, photo_folder, long_video, monkeypatch):
    shown_window(qtbot, window)
    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.folder_model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    before, counts = folder_state(window), window.panel.counts.text()
    start_camera_from_the_menu(qtbot, window, monkeypatch, long_video)
    live(qtbot, window)
    assert window.batches.shown == "camera" and window.model is window.camera.model
    assert window.camera_panel.state.text().startswith("Live: camera ")
    captured(qtbot, window, 1)
    qtbot.wait(200)  # a new frame since
    captured(qtbot, window, 2)
    assert all(it.status == "ok" and 0 <= it.score <= 100 for it in window.camera.model.items)
    assert window.proxy.rowCount() == 2 and window.viewer.outcome is not None  # the frames are what the gallery shows

    scored = spy_on_scoring(monkeypatch)
    action_for(window, "Alt+1").trigger()  # back to the folder: as it was
    assert window.batches.shown == "folder" and window.proxy.rowCount() == 7
    assert folder_state(window) == before
    assert window.panel.counts.text() == counts  # its pass / review / fail counts, not the camera's
    tabs = window.batches.tabs
    assert [tabs.tabText(i) for i in range(2)] == ["Folder · 7", "Camera · 2"]
    assert not window.capture_action.isEnabled()  # Space is the viewer's key here, the camera runs on
    action_for(window, "Alt+2").trigger()
    assert window.batches.shown == "camera" and window.proxy.rowCount() == 2
    assert sum(int(n) for n in window.panel.counts.text().split()[1::2]) == 2
    assert scored == []
    window.camera_panel.stop_requested.emit()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=15000)
    assert window.camera_panel.state.text() == "Stopped: 2 frames in this batch"
    assert len(sorted(window.camera.folder.glob("frame-*.png"))) == 2


def test_a_video_standing_in_for_the_camera_ends_with_one_line_saying_how_many_frames(qtbot, window, video, tmp_path):
    import sqlite3

    frames = tmp_path / "frames"
    window.camera_controller.open_camera(str(video), interval_ms=100, save_dir=frames)  # "also every 0.1 s"
    qtbot.waitUntil(lambda: "ended" in window.camera_panel.state.text() and not window.is_busy(), timeout=30000)
    assert window.camera_panel.state.text() == "Camera " + str(video) + ": video ended after 40 frames"
    assert not window.capture_action.isEnabled() and window.camera_panel.start.text() == "Start"  # Space is the viewer's again
    assert not [m for m in window.messages.messages() if "camera" in m.text.lower()]  # no lost, no retry
    saved = sorted(frames.glob("frame-*.png"))
    assert len(saved) >= 2
    assert len(window.camera.model.items) == len(saved)
    assert all(it.status == "ok" and 0 <= it.score <= 100 for it in window.camera.model.items)
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select count(*) from images where source = 'camera'").fetchone()[0] == len(saved)


def test_a_device_number_with_no_camera_says_not_found_and_stops_without_hanging(qtbot, window, monkeypatch):
    started = time.monotonic()
    start_camera_from_the_menu(qtbot, window, monkeypatch, "9")
    qtbot.waitUntil(lambda: "not found" in window.camera_panel.state.text() and not window.is_busy(), timeout=10000)
    assert time.monotonic() - started < 8
    assert window.camera_panel.state.text() == "Camera '9' not found: it did not open"
    assert window.messages.messages()[-1].text == "Camera '9' not found: it did not open"
    assert window.camera_panel.start.text() == "Start"  # ready to try another


def test_find_cameras_looks_off_the_gui_thread_and_answers_within_seconds(qtbot, window):
    window.camera_controller.show_camera_batch()
    started = time.monotonic()
    window.camera_panel.find.click()
    assert time.monotonic() - started < 0.5  # the window did not wait for the devices
    qtbot.waitUntil(lambda: "0–5" in window.camera_panel.state.text() and "Looking" not in window.camera_panel.state.text()
                    or "found" in window.camera_panel.state.text(), timeout=8000)
    text = window.camera_panel.state.text()
    found = [window.camera_panel.device.itemText(i) for i in range(window.camera_panel.device.count())]
    assert text == "No camera answered at device numbers 0–5" and found == [] or text.startswith("Cameras found") and found


def test_a_relaunch_on_the_same_home_shows_both_batches_again_without_scoring_anything(
        qtbot, window, photo_folder, long_video, tmp_path, monkeypatch, exported_student):
    from app.ui.main_window import MainWindow

    shown_window(qtbot, window)
    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.folder_model.items) == 7 and not window.is_busy(), timeout=30000)
    start_camera_from_the_menu(qtbot, window, monkeypatch, long_video)
    live(qtbot, window)
    captured(qtbot, window, 1)
    qtbot.wait(200)
    captured(qtbot, window, 2)
    folder, camera = folder_state(window), sorted((it.path, it.score) for it in window.camera.model.items)
    settled(qtbot, window)
    window.close()

    scored = spy_on_scoring(monkeypatch)
    again = MainWindow(exported_student[1], tmp_path / "inspector.db",
                       QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    model_loaded(qtbot, again)
    qtbot.waitUntil(lambda: len(again.folder_model.items) == 7 and len(again.camera.model.items) == 2
                    and not again.is_busy(), timeout=30000)
    settled(qtbot, again)
    assert folder_state(again) == folder
    assert sorted((it.path, it.score) for it in again.camera.model.items) == camera
    assert all(it.thumb for it in again.camera.model.items)  # drawn in the gallery, not blank cells
    assert set(scored) == {"broken.jpg"}  # a file that could not be read is tried again; nothing else is scored
    again.camera_controller.show_camera_batch()
    assert again.proxy.rowCount() == 2 and again.batches.tabs.tabText(1) == "Camera · 2"
    again.close()


def test_closing_the_window_stops_the_camera_it_was_reading(qtbot, window, long_video):
    window.camera_controller.open_camera(str(long_video))
    live(qtbot, window)
    reader_thread = window.tasks._loops["camera reader"][1]
    window.close()
    assert reader_thread.isFinished() and not window.camera.running


def test_a_stream_password_is_neither_kept_in_the_settings_nor_shown(qtbot, window, tmp_path):
    window.camera_controller.open_camera("rtsp://admin:cam-pass@127.0.0.1:9/none", save_dir=tmp_path / "frames")
    qtbot.waitUntil(lambda: "not found" in window.camera_panel.state.text() and not window.is_busy(), timeout=15000)
    said = window.camera_panel.state.text()
    assert "not found" in said and "cam-pass" not in said and "cam-pass" not in window.statusBar().currentMessage()
    assert window.settings.value("camera") == "rtsp://admin:***@127.0.0.1:9/none"


def test_a_long_video_path_in_the_device_field_is_elided_in_the_middle_and_whole_in_its_tooltip(qtbot, window,
                                                                                                tmp_path):
    """The field showed the path's start and cut off the file's name."""
    deep = tmp_path / "line-2" / "station-07" / "recordings" / "2026-12-07 morning shift"
    deep.mkdir(parents=True)
    spec = str(write_video(deep / "line-camera.avi", 250))
    window.show()
    window.resize(1280, 800)
    qtbot.waitExposed(window)
    window.camera_controller.open_camera(spec, save_dir=tmp_path / "frames")
    live(qtbot, window)
    field = window.camera_panel.device.lineEdit()
    shown = field.shown_text()
    assert "…" in shown and shown.startswith(spec[:2]) and shown.endswith("/line-camera.avi"), shown
    assert field.fontMetrics().horizontalAdvance(shown) <= field.width()
    assert spec in window.camera_panel.device.toolTip()
    assert window.camera_panel.camera() == spec  # what it stands for is the whole path
    window.camera.stop()
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=15000)
    field.setFocus()  # typing in it: the whole path, to edit
    qtbot.waitUntil(field.hasFocus, timeout=5000)
    assert field.shown_text() == spec
