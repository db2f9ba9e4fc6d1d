"""The camera's batch: a gallery of its own beside the folder's, the reading loop, the captures.

All of its work belongs to the window's TaskOwner (app.ui.tasks), so it stops when the window
closes: the reading loop runs as the owner's loop (a thread of its own: the preview stays live),
a capture and a relaunch's reading of the batch as the owner's short work.

A start begins a new batch in a folder of its own (its frames, PNG, lossless), remembered in the
settings: a relaunch shows the batch again from the database, scoring nothing twice. Space, or
the timer every N s, captures the newest frame. "Not found" (the device never opened), "lost"
(it delivered, then stopped; a few reconnects, then it gives up) and "video ended after N frames"
are each said in their own words.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from ..core.paths import user_data_dir
from ..core.verdict import Thresholds
from ..core.workspace import Workspace
from ..sources.camera import ENDED, GAVE_UP, LIVE, LOST, NOT_FOUND, CameraSource, probe_devices
from .gallery import GalleryModel
from .message_log import ERROR, WARNING
from .tasks import TaskOwner, describe_failure
from .workers import CameraReader, capture_frame, read_frames

READER, BATCH, PROBE, CAPTURE = "camera reader", "camera batch", "camera probe", "camera capture"
PROBED_DEVICES = 6  # device numbers 0..5 are looked at by "Find cameras"
PROBE_SECONDS = 3.0


class CameraBatch(QObject):
    said = Signal(str, str)  # level (ERROR, WARNING, or "" for the status bar alone), one line
    state = Signal(str)  # what the camera is doing, for the camera panel
    preview = Signal(QImage)  # the live picture, small
    running_changed = Signal(bool)
    added = Signal(object)  # a ScoreRecord joined the batch
    reloaded = Signal()  # the batch's frames were read again (a relaunch, another model)
    devices = Signal(object)  # [ProbedDevice] after "Find cameras"

    def __init__(self, workspace: Workspace, tasks: TaskOwner, settings: QSettings,
                 thresholds: Callable[[], Thresholds], parent: QObject | None = None):
        super().__init__(parent)
        self.workspace, self.tasks, self.settings, self.thresholds = workspace, tasks, settings, thresholds
        self.model = GalleryModel(self)
        remembered = settings.value("camera_batch", "")
        self.folder: Path | None = Path(remembered) if remembered else None
        self.source_name = settings.value("camera_batch_source", "")  # masked, as shown
        self._reader: CameraReader | None = None
        self._run = 0  # the reader whose signals count; a stopped one's late ones are dropped
        self._batch = 0  # the batch a capture's answer belongs to
        self._captures = 0
        self._last_captured = 0  # the frame number captured last: never the same frame twice
        self._pending = 0  # captures asked for and not yet answered
        self._reading = False
        self.timer = QTimer(self)  # "every N s": captures on a clock as well as on the key
        self.timer.timeout.connect(lambda: self._pending == 0 and self.capture(quiet=True))

    @property
    def running(self) -> bool:
        """Reading frames: between a start and a stop or the source's end (as the GUI was told)."""
        return self._reading

    @property
    def busy(self) -> bool:
        """The reading loop's thread alive, or a capture not yet scored: the model must not
        change under it."""
        return self.tasks.loop_running(READER) or self._pending > 0

    def start(self, spec: str, interval_ms: int = 0, folder: Path | None = None) -> None:
        """A new batch from the camera ``spec`` (device number, stream URL or video file); its
        frames go to ``folder`` (default: a new dated folder beside the user's data)."""
        self.stop(quiet=True)
        self.tasks.cancel(BATCH)  # a reload of the previous batch still running is stale
        source = CameraSource(spec)
        self.source_name = source.shown
        # The settings file is no place for a stream's password: it is kept masked, and typed again.
        self.settings.setValue("camera", source.shown)
        self.folder = Path(folder) if folder else (
            user_data_dir() / "camera-frames" / datetime.now().strftime("%Y-%m-%d %H%M%S"))
        self.settings.setValue("camera_batch", str(self.folder))
        self.settings.setValue("camera_batch_source", source.shown)
        self._batch += 1
        self._last_captured = 0
        self.model.clear()
        self._run += 1
        self._reader = CameraReader(self._run, source)
        self._reader.preview.connect(self._preview)
        self._reader.status.connect(self._status)
        self._reader.finished.connect(self._finished)
        self._reading = self.tasks.start_loop(READER, self._reader)
        if interval_ms > 0:
            self.timer.start(interval_ms)
        self.running_changed.emit(True)
        self.state.emit(f"Opening camera {source.shown}…")

    def stop(self, quiet: bool = False) -> None:
        """Stop reading (never waited for here); the batch and its frames stay."""
        self.timer.stop()
        if self._reader is None or not self.running:
            return
        self.tasks.stop_loop(READER)
        self._reading = False
        self._run += 1  # whatever the stopped reader still says is dropped
        self.running_changed.emit(False)
        if not quiet:
            self.state.emit(f"Stopped: {len(self.model.items)} frames in this batch")

    def capture(self, quiet: bool = False) -> bool:
        """The newest frame into the batch: saved, scored and stored on the owner's thread.
        ``quiet``: the timer's capture says nothing when there is no new frame."""
        if self._reader is None or not self.running:
            if not quiet:
                self.said.emit("", "The camera is not running: start it first (File → Open camera…)")
            return False
        got = self._reader.latest()
        if got is None or got[0] == self._last_captured:
            if not quiet:
                self.said.emit("", "No new frame from the camera yet")
            return False
        self._last_captured, image = got
        self._pending += 1
        self._captures += 1
        ws, folder, batch = self.workspace, self.folder, self._batch
        # A key of its own per capture: every answer is wanted, not only the newest.
        self.tasks.submit((CAPTURE, self._captures), lambda: capture_frame(ws, image, folder),
                          on_done=lambda result: self._captured(batch, result),
                          on_error=lambda exc: self._capture_failed(batch, exc), replace=False)
        return True

    def reload(self) -> None:
        """The remembered batch's frames again, from the database (scored now only when this
        model has not scored them)."""
        if self.running or self.folder is None or self.workspace.engine is None:
            return
        ws, folder, batch = self.workspace, self.folder, self._batch
        self.tasks.submit(BATCH, lambda: read_frames(ws, folder), on_done=lambda found: self._reloaded(batch, found))

    def find_devices(self) -> None:
        """Which device numbers answer, looked at off the GUI thread, in bounded time."""
        in_use = self._reader.source.spec if self.running else None
        indices = [i for i in range(PROBED_DEVICES) if i != in_use]
        self.state.emit(f"Looking for cameras at device numbers 0–{PROBED_DEVICES - 1}…")
        self.tasks.submit(PROBE, lambda: probe_devices(indices, PROBE_SECONDS),
                          on_done=lambda found: self._probed(found, in_use))

    # --- answers, on the GUI thread ------------------------------------------------------------
    def _captured(self, batch: int, result) -> None:
        self._pending -= 1
        if batch != self._batch:
            return  # a capture of a batch replaced since: stored, not shown here
        record, thumb = result
        self.model.upsert(record, thumb, self.thresholds())
        self.added.emit(record)
        name = Path(record.path).name
        if record.status == "ok":
            verdict = self.model.item(record.path).verdict_in_force or ""
            self.said.emit("", f"Captured {name}: {record.score:.1f} {verdict.upper()}")
        else:
            self.said.emit(WARNING, record.error or f"{name}: {record.status}")

    def _capture_failed(self, batch: int, exc: Exception) -> None:
        self._pending -= 1
        self.said.emit(ERROR, f"The frame was not kept: {describe_failure(exc)}")

    def _reloaded(self, batch: int, found: list) -> None:
        if batch != self._batch:
            return
        self.model.clear()
        thresholds = self.thresholds()
        for record, thumb in found:
            self.model.upsert(record, thumb, thresholds)
        if found:
            self.state.emit(f"Camera {self.source_name}: {len(found)} frames from the last session")
        self.reloaded.emit()

    def _probed(self, found: list, in_use) -> None:
        self.devices.emit(found)
        answered = [f"{d.index}" + (f" ({d.size[0]}×{d.size[1]})" if d.size else "") for d in found if d.found]
        if in_use is not None:
            answered.insert(0, f"{in_use} (in use here)")
        text = (f"Cameras found at device number {', '.join(answered)}" if answered
                else f"No camera answered at device numbers 0–{PROBED_DEVICES - 1}")
        self.state.emit(text)
        self.said.emit("", text)

    @Slot(int, object)
    def _preview(self, run: int, image) -> None:
        if run != self._run:
            return
        h, w = image.shape[:2]
        self.preview.emit(QImage(image.data, w, h, 3 * w, QImage.Format_RGB888).copy())

    @Slot(int, str, str)
    def _status(self, run: int, status: str, message: str) -> None:
        if run != self._run:
            return
        name = self.source_name
        if status == LIVE:
            text, level = f"Live: camera {name}. Space captures a frame", ""
        elif status == ENDED:
            text, level = f"Camera {name}: {message}", ""  # one line, not an error: the file is done
        elif status == NOT_FOUND:
            text, level = message[0].upper() + message[1:], WARNING
        elif status in (LOST, GAVE_UP):
            text, level = message[0].upper() + message[1:], ERROR if status == GAVE_UP else WARNING
        elif status == "failed":
            text, level = f"Camera {name} stopped: {message}", ERROR
        else:  # stalled: a moment without a new frame
            text, level = f"Camera {name}: {message}", ""
        self.state.emit(text)
        self.said.emit(level, text)

    @Slot(int)
    def _finished(self, run: int) -> None:
        if run != self._run:
            return
        self.timer.stop()
        self._reading = False
        self.running_changed.emit(False)
