"""The labeling panel: a rater signs in and gives ACR opinions, keys 1-5, with undo.

The photo is shown without the model's score, so raters are not biased. The session logic
(order, resume, gold, undo) lives in app.core.labeling; photos are decoded off the GUI thread.
"""
from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.imageio import ImageLoadError, load_rgb
from ..core.labeling import ACR_LEVELS, LabelingSession
from ..core.ratings_io import batch_summary
from ..core.store import Database
from .images import to_qimage


class _Loaded(QObject):
    done = Signal(str, object)  # path, QImage or error text


class _LoadJob(QRunnable):
    def __init__(self, path: str):
        super().__init__()
        self.path, self.signals = path, _Loaded()

    def run(self) -> None:
        try:
            self.signals.done.emit(self.path, to_qimage(load_rgb(self.path)))
        except ImageLoadError as exc:
            self.signals.done.emit(self.path, str(exc))


class LabelingPanel(QWidget):
    finished = Signal()

    def __init__(self, db: Database, batch: str, photos: list[str], training=(), gold=(), parent=None):
        super().__init__(parent)
        self.setWindowTitle("Rate photos")
        self.db, self.batch, self.photos, self.training, self.gold = db, batch, photos, list(training), list(gold)
        self.session: LabelingSession | None = None
        self.item = None
        self._clock = QElapsedTimer()

        self.rater = QLineEdit()
        self.rater.setPlaceholderText("your rater id")
        sign_in = QPushButton("Start")
        sign_in.clicked.connect(self.sign_in)
        self.rater.returnPressed.connect(self.sign_in)
        top = QHBoxLayout()
        top.addWidget(QLabel("Rater"))
        top.addWidget(self.rater, 1)
        top.addWidget(sign_in)

        self.photo = QLabel("Sign in to start", alignment=Qt.AlignCenter)
        self.photo.setMinimumSize(480, 360)
        self._pixmap: QPixmap | None = None  # the photo at full size, refitted when the panel resizes
        self.hint = QLabel(alignment=Qt.AlignCenter)
        self.progress = QLabel()
        self.buttons = {}
        row = QHBoxLayout()
        for value in sorted(ACR_LEVELS, reverse=True):
            b = QPushButton(f"{value}  {ACR_LEVELS[value]}")
            b.setEnabled(False)
            b.clicked.connect(lambda _=False, v=value: self.vote(v))
            self.buttons[value] = b
            row.addWidget(b)
        undo = QPushButton("Undo last")
        undo.clicked.connect(self.undo)
        row.addWidget(undo)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.photo, 1)
        layout.addWidget(self.hint)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        for value in ACR_LEVELS:
            QShortcut(QKeySequence(str(value)), self, activated=lambda v=value: self.vote(v))
        QShortcut(QKeySequence.Undo, self, activated=self.undo)
        QShortcut(QKeySequence(Qt.Key_Backspace), self, activated=self.undo)

    def sign_in(self) -> None:
        key = self.rater.text().strip()
        if not key:
            self.photo.setText("A rater id is required")
            return
        screen = self.screen().size() if self.screen() else None
        display = {"screen": f"{screen.width()}x{screen.height()}" if screen else None, "panel": f"{self.width()}x{self.height()}"}
        self.session = LabelingSession(self.db, key, self.batch, self.photos, self.training, self.gold, display)
        self.rater.setEnabled(False)
        self.setFocus()
        self._advance(self.session.current())

    def _advance(self, item) -> None:
        self.item = item
        done, total = self.session.progress()
        self.progress.setText(f"{done} of {total} answered")
        for b in self.buttons.values():
            b.setEnabled(False)  # an answer is accepted only once the photo is on screen
        self._pixmap = None
        if item is None:
            self.photo.setPixmap(QPixmap())
            self.photo.setText("Thank you: every photo of this batch is rated")
            self.hint.setText(batch_summary(self.db, self.photos))  # MOS ± CI, votes per photo, screening
            self.finished.emit()
            return
        self.hint.setText(
            f"Practice photo: the expected answer is {item.expected} ({ACR_LEVELS[item.expected]})"
            if item.kind == "training" else "How good is this photo's quality?"
        )
        self.photo.setText("Loading…")
        job = _LoadJob(item.path)
        job.signals.done.connect(self._shown)
        QThreadPool.globalInstance().start(job)

    def _shown(self, path: str, image) -> None:
        if self.item is None or path != self.item.path:
            return
        if isinstance(image, str):
            # No vote on a photo nobody could see: the buttons stay off, the reason is shown.
            self.photo.setText(f"This photo cannot be shown, so it cannot be rated: {image}")
            self.hint.setText("Tell the supervisor; Undo goes back to the previous photo")
            return
        self._pixmap = QPixmap.fromImage(image)
        self._fit()
        for b in self.buttons.values():
            b.setEnabled(True)
        self._clock.start()

    def _fit(self) -> None:
        if self._pixmap is not None:
            self.photo.setPixmap(self._pixmap.scaled(self.photo.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def ready(self) -> bool:
        return self.item is not None and all(b.isEnabled() for b in self.buttons.values())

    def vote(self, value: int) -> None:
        if self.session is None:
            return
        if not self.ready():  # a key pressed before the photo is on screen: said, not lost silently
            self.hint.setText(f"Your {value} was not counted: wait until the photo is shown, then answer")
            return
        self._advance(self.session.vote(value, int(self._clock.elapsed())))

    def undo(self) -> None:
        if self.session is not None:
            self._advance(self.session.undo())
