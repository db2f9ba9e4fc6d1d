import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.gui


def test_open_a_photo_and_see_its_score(qtbot, exported_student, tmp_path):
    from app.ui.main_window import MainWindow

    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    window = MainWindow(exported_student[1])
    qtbot.addWidget(window)
    assert "Model tiny" in window.statusBar().currentMessage()
    window.score_photo(tmp_path / "p.png")
    qtbot.waitUntil(lambda: window.result.text().startswith("Score"), timeout=10000)
    assert not window.photo.pixmap().isNull()


def test_a_bad_photo_shows_a_message(qtbot, exported_student, tmp_path):
    from app.ui.main_window import MainWindow

    (tmp_path / "x.jpg").write_bytes(b"")
    window = MainWindow(exported_student[1])
    qtbot.addWidget(window)
    window.score_photo(tmp_path / "x.jpg")
    qtbot.waitUntil(lambda: "Cannot score" in window.result.text(), timeout=10000)
    assert "empty" in window.result.text()


def test_a_bad_model_is_named_in_the_status_bar(qtbot, tmp_path):
    from app.ui.main_window import MainWindow

    window = MainWindow(tmp_path)
    qtbot.addWidget(window)
    assert "No usable model" in window.statusBar().currentMessage()
