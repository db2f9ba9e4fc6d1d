import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox


@pytest.fixture(autouse=True)
def no_unanswered_questions(monkeypatch):
    """A question no test answers would wait forever offscreen: it fails the test instead."""
    def unexpected(parent, title, *args, **kwargs):
        raise AssertionError(f"a question dialog no test answered: {title!r}")

    monkeypatch.setattr(QMessageBox, "question", staticmethod(unexpected))


@pytest.fixture
def photo_folder(tmp_path):
    """Six photos, from sharp to heavily blurred and noisy, plus one corrupt file."""
    import cv2

    folder = tmp_path / "batch"
    folder.mkdir()
    data = pytest.importorskip("skimage.data")
    base = data.astronaut()[::3, ::3]
    rng = np.random.default_rng(0)
    for i in range(6):
        img = cv2.GaussianBlur(base, (0, 0), 0.1 + i * 1.5) if i else base
        noisy = np.clip(img + rng.normal(0, 6 * i, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


@pytest.fixture
def window(qtbot, exported_student, tmp_path):
    from app.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(w)
    yield w
    w.cancel()
