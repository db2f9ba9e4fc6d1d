import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.gui


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (160, 120))
    for i in range(40):
        frame = np.full((120, 160, 3), 40 + i * 4, np.uint8)
        cv2.circle(frame, (20 + 3 * i, 60), 15, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def test_a_video_file_as_camera_gets_frames_scored_saved_and_stored(qtbot, window, video, tmp_path):
    import sqlite3

    frames = tmp_path / "frames"
    window.open_camera(str(video), interval_ms=100, save_dir=frames)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=30000)
    assert "ended" in window.statusBar().currentMessage() or "Done" in window.statusBar().currentMessage()
    saved = sorted(frames.glob("frame-*.png"))
    assert len(saved) >= 2
    assert len(window.model.items) == len(saved)
    assert all(it.status == "ok" and 0 <= it.score <= 100 for it in window.model.items)
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select count(*) from images where source = 'camera'").fetchone()[0] == len(saved)


def test_a_stream_password_is_neither_kept_in_the_settings_nor_shown(qtbot, window, tmp_path):
    window.open_camera("rtsp://admin:cam-pass@127.0.0.1:9/none", interval_ms=100, save_dir=tmp_path / "frames")
    try:
        qtbot.waitUntil(lambda: "not available" in window.statusBar().currentMessage(), timeout=30000)
        assert "cam-pass" not in window.statusBar().currentMessage()
        assert window.settings.value("camera") == "rtsp://admin:***@127.0.0.1:9/none"
    finally:
        window.cancel()
        qtbot.waitUntil(lambda: not window.is_busy(), timeout=30000)
