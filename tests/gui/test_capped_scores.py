"""What the viewer says when a reader on the model's card capped a photo's score."""

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog

from tests.conftest import copy_with_reading, ship_for_tests
from tests.gui.conftest import model_loaded
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


@pytest.fixture
def blur_capping_model(exported_student, tmp_path):
    """The tiny model with a sharpness reader sure that every photo it reads is blurred."""
    model = copy_with_reading(exported_student, tmp_path / "model", sharpness={
        "features": "edge steps per local range in four directions, 64 tiles of 128 px", "center": [0.0] * 8,
        "scale": [1.0] * 8, "weights": [0.0] * 8, "bias": 20.0, "onset": 0.3})
    ship_for_tests(model.with_suffix(".json"))
    return model


def _what_the_viewer_says(qtbot, monkeypatch, model, photos, home, timeout=30000) -> dict:
    """Open ``photos`` with Ctrl+O in the real window and show each photo: name -> (the text under
    it, its ScoreResult)."""
    from app.ui.main_window import MainWindow

    names = sorted(p.name for p in photos.iterdir())
    window = MainWindow(model, home / "inspector.db", QSettings(str(home / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    model_loaded(qtbot, window)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(photos)))
    action_for(window, "Ctrl+O").trigger()
    qtbot.waitUntil(lambda: len(window.model.items) == len(names) and not window.is_busy(), timeout=timeout)
    window.filter_box.setCurrentText("all")
    said = {}
    for name in names:
        row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(Qt.UserRole + 1).endswith(name))
        window.gallery.setCurrentIndex(window.proxy.index(row, 0))
        qtbot.waitUntil(lambda: window.viewer.outcome is not None and window.viewer.outcome.record.path.endswith(name)
                        and window.viewer.outcome.result is not None, timeout=timeout)
        said[name] = (window.viewer.info.text(), window.viewer.outcome.result)
    window.cancel()
    return said


def test_a_large_photo_capped_for_blur_says_so_and_a_small_one_is_not_read_for_it(qtbot, blur_capping_model, tmp_path,
                                                                                  monkeypatch):
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    cv2.imwrite(str(photos / "large.jpg"), cv2.GaussianBlur(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), (0, 0), 4))
    cv2.imwrite(str(photos / "small.jpg"), rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    said = {name: text for name, (text, _) in _what_the_viewer_says(qtbot, monkeypatch, blur_capping_model, photos, tmp_path).items()}
    assert said["large.jpg"].startswith("Score 0.0 / 100") and "blurred at 100 %: capped at 0.0" in said["large.jpg"]
    assert "blurred" not in said["small.jpg"]


def test_a_photo_whose_damage_shows_only_at_100_percent_says_the_detail_capped_it(qtbot, tmp_path, monkeypatch):
    """The shipped model: a large photo with heavy noise that the 512-px overview barely sees (the
    whole photo reads ~73) fails, and the viewer says the detail reader's cap is why."""
    from app.core.imageio.decode import load_rgb
    from app.core.paths import default_model_dir, resources_dir

    photos = tmp_path / "photos"
    photos.mkdir()
    sample = cv2.resize(load_rgb(resources_dir() / "samples" / "parrots_kodak23.png"), (3072, 2048),
                        interpolation=cv2.INTER_CUBIC)
    noisy = np.clip(sample + np.random.default_rng(0).normal(0, 25, sample.shape), 0, 255).astype(np.uint8)
    cv2.imwrite(str(photos / "noisy.png"), cv2.cvtColor(noisy, cv2.COLOR_RGB2BGR))
    said, result = _what_the_viewer_says(qtbot, monkeypatch, default_model_dir() / "mobileiqa-student.onnx", photos,
                                         tmp_path, timeout=60000)["noisy.png"]
    assert result.overview_score > 60 and result.score < 40, said  # the overview alone would pass it
    assert "FAIL" in said and f"damage at 100 %: capped at {result.score:.1f}" in said, said
    assert "blurred" not in said and "exposed" not in said
