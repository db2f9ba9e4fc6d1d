"""The folder's batch from start to end: choosing and opening a folder, its photos arriving in the
folder's gallery, the progress bar, cancelling, and what is said when it ends.

The batch runs as a loop of the window's TaskOwner (app.ui.batch_jobs); this controller is its
GUI side. A batch asked for while the first model is still loading is held, and started once the
model is in (``take_held``). What the window must act on leaves as signals: ``started`` (what
exports and the report name), ``added`` (a photo joined the gallery), ``counts_changed`` (at most
4 times a second), ``ended``.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QMessageBox, QPushButton, QWidget

from ..core.verdict import Thresholds
from ..core.workspace import Workspace
from .batch_jobs import BatchJobs, ended_text, progress_text
from .batch_tabs import FOLDER, BatchSwitch
from .gallery import GalleryModel
from .message_log import ERROR, WARNING, MessageLog
from .status_line import FittedProgressBar
from .tasks import TaskOwner
from .workers import FolderWorker


class BatchController(QObject):
    status = Signal(str)  # one line for the status bar
    started = Signal(str, object)  # the batch's name, its folder
    added = Signal()  # a photo joined the folder's gallery
    counts_changed = Signal()  # the gallery's scores changed: redraw the histogram and counts
    ended = Signal()

    def __init__(self, window: QWidget, workspace: Workspace, tasks: TaskOwner, settings: QSettings,
                 folder_model: GalleryModel, batches: BatchSwitch, thresholds: Callable[[], Thresholds],
                 messages: MessageLog, model_loading: Callable[[], bool], open_button: QPushButton,
                 recursive: QCheckBox, watch: QCheckBox, progress: FittedProgressBar, cancel_button: QPushButton):
        super().__init__(window)
        self.window, self.workspace, self.settings = window, workspace, settings
        self.folder_model, self.batches, self.thresholds, self.messages = folder_model, batches, thresholds, messages
        self.model_loading, self.recursive, self.watch = model_loading, recursive, watch
        self.progress, self.cancel_button = progress, cancel_button
        self.jobs = BatchJobs(tasks, self)
        self.jobs.scored.connect(self._add)
        self.jobs.progress.connect(self._progress)
        self.jobs.removed.connect(self._removed)
        self.jobs.moved.connect(folder_model.rename)
        self.jobs.failed.connect(self._failed)
        self.jobs.finished.connect(self._done)
        self._failure: str | None = None
        self._held: Callable[[], None] | None = None  # a batch asked for before the first model was in
        self.batch_started = time.monotonic()
        # The histogram is redrawn at most 4 times a second, not once per photo: with thousands
        # of photos arriving, recounting every score per photo froze the window.
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(250)
        self._counts_timer.timeout.connect(self.counts_changed)
        open_button.clicked.connect(self.choose_folder)
        # Ticked with a folder open, they take effect at once: the folder is read again (its
        # scored photos come from the database), rather than at the next Open.
        recursive.toggled.connect(self._reread_folder)
        watch.toggled.connect(self._reread_folder)

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Photos to inspect",
                                                  self.settings.value("last_folder", ""))
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> None:
        if not self.hold_until_model(lambda: self.open_folder(folder), f"{folder} is scored"):
            return
        self.jobs.cancel()
        self.folder_model.clear()
        self.batches.show(FOLDER)
        self.settings.setValue("last_folder", str(folder))
        self.started.emit(str(folder), Path(folder))  # named in the report
        self._failure = None
        self.batch_started = time.monotonic()
        self.progress.setValue(0)  # a batch of no photos must not end on the last one's count
        self.progress.set_text("")
        self.jobs.start(FolderWorker(self.workspace, folder, self.recursive.isChecked(), self.watch.isChecked()))
        self.cancel_button.setEnabled(True)
        self.status.emit(f"Scoring {folder}…")

    def hold_until_model(self, later: Callable[[], None], what: str) -> bool:
        """True when a batch can start now. While the first model is still loading (right after
        launch) the batch is held and ``later`` starts it once the model is in."""
        if self.workspace.engine is not None:
            return True
        if self.model_loading():
            self._held = later
            self.status.emit(f"The model is still loading: {what} once it is in")
        else:
            QMessageBox.warning(self.window, "No model", "Load a model first (File → Load model…).")
        return False

    def take_held(self) -> Callable[[], None] | None:
        """The batch held while the model loaded (None: none); it is the caller's to start."""
        held, self._held = self._held, None
        return held

    def cancel(self) -> None:
        self.jobs.cancel()

    def may_stop(self) -> bool:
        """Quitting mid-batch: True once the person confirms (a camera stops without asking: its
        captured frames are kept)."""
        if not self.jobs.busy:
            return True
        answer = QMessageBox.question(
            self.window, "Stop and quit?",
            ("The folder is being watched" if self.watch.isChecked() else "A batch is being scored")
            + f" ({self.progress.value()} of {self.progress.maximum()} photos so far). Stop it and quit? "
            "The photos scored so far are kept; the rest are scored next time the folder is opened.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def _reread_folder(self) -> None:
        last = self.settings.value("last_folder")
        if self.folder_model.items and last and Path(last).is_dir():
            self.open_folder(Path(last))

    def _add(self, record, thumb) -> None:
        self.folder_model.upsert(record, thumb, self.thresholds())
        if record.status != "ok":  # listed, though the status bar goes on with the batch
            self.messages.add(WARNING, record.error or f"{Path(record.path).name}: {record.status}")
        if not self._counts_timer.isActive():
            self._counts_timer.start()
        self.added.emit()

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.set_text(progress_text(done, total, time.monotonic() - self.batch_started))
        if self.watch.isChecked() and done == total:
            self.status.emit(f"Watching {self.settings.value('last_folder')}: {done} scored")

    def _done(self, cancelled: bool) -> None:
        self.cancel_button.setEnabled(False)
        self._counts_timer.stop()
        self.ended.emit()
        self.counts_changed.emit()
        n, errors = len(self.folder_model.items), sum(1 for it in self.folder_model.items if it.status != "ok")
        ending = f"Stopped by a {self._failure}" if self._failure else ("Cancelled" if cancelled else "Done")
        self.status.emit(f"{ending}: {n} photos, {errors} could not be scored")
        self.progress.set_text(ended_text("Stopped" if self._failure else ending, self.progress.value(),
                                          time.monotonic() - self.batch_started))

    def _failed(self, message: str) -> None:
        self._failure = message
        self.messages.add(ERROR, f"The batch stopped: {message}")

    def _removed(self, path: str) -> None:
        self.folder_model.remove(path)
        text = f"{Path(path).name} was deleted from the folder: taken out of the gallery"
        self.status.emit(text)
        self.messages.add(WARNING, text)
