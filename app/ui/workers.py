"""Long work off the GUI thread: a folder batch (run by app.ui.batch_jobs), a camera's reading
loop, and a camera batch's captures and frames (run by the window's TaskOwner, app.ui.tasks)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.imageio.file_names import canonical_path
from ..core.scoring.catalogue import already_scored, store_scored
from ..core.scoring.photo import score_photo
from ..core.store.repository import rename_image, stored_ok
from ..core.workspace import Workspace
from ..sources.camera import FINAL, LIVE, save_frame
from ..sources.folder import FolderWatcher
from .tasks import describe_failure


class FolderWorker(QObject):
    """Scores every photo of a folder (existing first), then, if ``watch``, new ones as they come.

    Runs as a loop of the window's TaskOwner (its own thread); talks to the window only through signals."""

    scored = Signal(object, object)  # ScoreRecord, JPEG thumbnail bytes or None
    progress = Signal(int, int)  # done, known total
    removed = Signal(str)
    moved = Signal(str, str)  # old path, new path
    failed = Signal(str)  # an error that stopped the batch (then ``finished`` follows)
    finished = Signal(bool)  # True when cancelled

    def __init__(self, workspace: Workspace, folder: Path, recursive: bool = False, watch: bool = False,
                 settle_seconds: float = 0.5, poll_seconds: float = 0.5):
        super().__init__()
        self.workspace, self.folder, self.watch = workspace, Path(folder), watch
        # Watched under its canonical name, so its photos' paths are the ones stored.
        self.watcher = FolderWatcher(canonical_path(self.folder), recursive, settle_seconds)
        self.poll_seconds = poll_seconds
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a database or disk error: said once, and the batch ends
            self.failed.emit(describe_failure(exc))
        self.finished.emit(self._cancel.is_set())

    def _run(self) -> None:
        done = 0
        # This folder's rows only: a shared database may hold a million photos of other folders.
        known = stored_ok(self.workspace.db, self.workspace.model_version_id, under=str(canonical_path(self.folder)))
        self.watcher.poll()  # the first look: everything present becomes pending
        while not self._cancel.is_set():
            events = self.watcher.poll()
            ready = [e.path for e in events if e.kind == "ready"]
            for e in events:
                if e.kind == "removed":
                    self.removed.emit(str(e.path))
                elif e.kind == "moved":
                    if rename_image(self.workspace.db, str(e.old_path), str(e.path)):
                        self.moved.emit(str(e.old_path), str(e.path))
                    else:  # never scored under the old name: score it now
                        ready.append(e.path)
            total = done + len(ready) + self.watcher.pending
            for path in ready:
                if self._cancel.is_set():
                    break
                stored = already_scored(self.workspace.db, path, known)
                if stored is not None:
                    done += 1
                    self.scored.emit(*stored)
                    self.progress.emit(done, total)
                    continue
                outcome = score_photo(self.workspace.engine, path)
                if outcome.record.status in ("truncated", "corrupt", "empty") and self.watcher.retry_later(path):
                    continue  # maybe still being written: offered again once it settles
                thumb = store_scored(self.workspace.db, self.workspace.model_version_id, outcome)
                done += 1
                self.scored.emit(outcome.record, thumb)
                self.progress.emit(done, total)
            if not self.watch and not self.watcher.pending and not ready:
                break
            time.sleep(self.poll_seconds if self.watch or self.watcher.pending else 0)


class CameraReader(QObject):
    """Reads a camera (or a video file, at its own frame rate) until stopped or the source says
    it is done. It keeps the newest full frame for a capture (``latest``) and sends a small copy
    for the live preview a few times a second. It scores nothing: a capture is the window's short
    work (``capture_frame`` through the TaskOwner), so the preview never waits on the model.
    Every signal carries the reader's ``run`` number: a stopped reader's late ones are dropped."""

    preview = Signal(int, object)  # run, RGB uint8 no wider than ``preview_width``
    status = Signal(int, str, str)  # run, status, message
    finished = Signal(int)  # run: always last

    def __init__(self, run: int, source, preview_width: int = 480, preview_fps: float = 12.0):
        super().__init__()
        self.run_id, self.source = run, source
        self.preview_width, self.preview_every = preview_width, 1.0 / preview_fps
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest: tuple[int, np.ndarray] | None = None

    def stop(self) -> None:
        self._stop.set()

    def latest(self) -> tuple[int, np.ndarray] | None:
        """(the frame's number, the frame) of the newest frame, or None before the first."""
        with self._lock:
            return self._latest

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # an OpenCV or disk error: said once, and the reading ends
            self.status.emit(self.run_id, "failed", describe_failure(exc))
        finally:
            self.source.close()
            self.finished.emit(self.run_id)

    def _run(self) -> None:
        said, next_preview = None, 0.0
        while not self._stop.is_set():
            started = time.monotonic()
            frame = self.source.read()
            if (frame.status, frame.message) != said:
                said = (frame.status, frame.message)
                self.status.emit(self.run_id, frame.status, frame.message)
            if frame.status in FINAL:
                return
            if frame.status != LIVE:
                self._stop.wait(0.05)  # the source paces its reconnects; no need to spin
                continue
            with self._lock:
                number = self._latest[0] + 1 if self._latest else 1
                self._latest = (number, frame.image)
            if started >= next_preview:
                next_preview = started + self.preview_every
                self.preview.emit(self.run_id, _small(frame.image, self.preview_width))
            # A file plays at its frame rate; a camera's read already waits for its next frame.
            self._stop.wait(max(0.0, self.source.frame_interval - (time.monotonic() - started)))


def _small(image: np.ndarray, width: int) -> np.ndarray:
    h, w = image.shape[:2]
    if w <= width:
        return image.copy()
    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def capture_frame(workspace: Workspace, image: np.ndarray, folder: Path):
    """A captured frame saved losslessly into its batch's folder, scored and stored:
    (ScoreRecord, thumbnail). Runs on the window's TaskOwner."""
    outcome = score_photo(workspace.engine, save_frame(image, folder), source="camera")
    return outcome.record, store_scored(workspace.db, workspace.model_version_id, outcome)


def read_frames(workspace: Workspace, folder: Path) -> list:
    """A camera batch's frames again (a relaunch, another model): each frame's stored result
    while its file is unchanged, else scored now; [(ScoreRecord, thumbnail)] oldest first."""
    folder = canonical_path(Path(folder))
    if not folder.is_dir():
        return []
    known = stored_ok(workspace.db, workspace.model_version_id, under=str(folder))
    results = []
    for path in sorted(folder.glob("frame-*.png")):
        stored = already_scored(workspace.db, path, known)
        if stored is None:
            outcome = score_photo(workspace.engine, path, source="camera")
            stored = outcome.record, store_scored(workspace.db, workspace.model_version_id, outcome)
        results.append(stored)
    return results
