"""The main window: open a photo, see its score and each view's opinion.

A first, small window; the gallery, viewer overlays and threshold panels grow from here.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QAction, QImage, QPixmap
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QMainWindow, QVBoxLayout, QWidget

from ..core.engine import Engine, ScoreResult
from ..core.imageio import ImageLoadError, load_rgb
from ..core.model_contract import ModelError
from ..core.model_loader import load_model


class _ScoreSignals(QObject):
    done = Signal(object, object)  # rgb array, ScoreResult
    failed = Signal(str)


class ScoreJob(QRunnable):
    """Decode and score one photo off the GUI thread."""

    def __init__(self, engine: Engine, path: Path):
        super().__init__()
        self.engine, self.path = engine, path
        self.signals = _ScoreSignals()

    def run(self) -> None:
        try:
            rgb = load_rgb(self.path)
            self.signals.done.emit(rgb, self.engine.score(rgb))
        except (ImageLoadError, ValueError) as exc:
            self.signals.failed.emit(str(exc))


class MainWindow(QMainWindow):
    def __init__(self, model_path: Path):
        super().__init__()
        self.setWindowTitle("MobileIQA Inspector")
        self.resize(900, 700)
        self.engine: Engine | None = None
        self.photo = QLabel("Open a photo (Ctrl+O)", alignment=Qt.AlignCenter)
        self.photo.setMinimumSize(320, 240)
        self.result = QLabel(alignment=Qt.AlignCenter)
        self.result.setObjectName("result")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.photo, 1)
        layout.addWidget(self.result)
        self.setCentralWidget(body)
        open_action = QAction("&Open photo…", self, shortcut="Ctrl+O", triggered=self.choose_photo)
        self.menuBar().addMenu("&File").addAction(open_action)
        self.load_model(model_path)

    def load_model(self, path: Path) -> None:
        try:
            model = load_model(path)
        except ModelError as exc:
            self.statusBar().showMessage(f"No usable model: {exc}")
            return
        self.engine = Engine(model)
        self.statusBar().showMessage(f"Model {model.name} v{model.version} ({model.card['backbone']})")

    def choose_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", "", "Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)")
        if path:
            self.score_photo(Path(path))

    def score_photo(self, path: Path) -> None:
        if self.engine is None:
            self.result.setText("No model loaded: see the status bar")
            return
        self.result.setText(f"Scoring {path.name}…")
        job = ScoreJob(self.engine, path)
        job.signals.done.connect(self._show)
        job.signals.failed.connect(self._show_error)
        QThreadPool.globalInstance().start(job)

    def _show_error(self, message: str) -> None:
        self.result.setText(f"Cannot score: {message}")

    def _show(self, rgb, result: ScoreResult) -> None:
        h, w, _ = rgb.shape
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
        self.photo.setPixmap(QPixmap.fromImage(image).scaled(self.photo.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))
        opinions = ", ".join(f"{o:.1f}" for o in result.opinions)
        self.result.setText(f"Score {result.score:.1f} / 100   (views: {opinions})   {result.seconds * 1000:.0f} ms")


def run_gui(model_path: Path) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(model_path)
    window.show()
    return app.exec()
