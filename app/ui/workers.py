"""Long work off the GUI thread: a folder batch and a camera, each run by app.ui.batch_jobs."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core.imageio.file_names import canonical_path
from ..core.scoring.catalogue import already_scored, store_scored
from ..core.scoring.photo import score_photo
from ..core.store.repository import rename_image, stored_ok
from ..core.workspace import Workspace
from ..sources.camera import ENDED, LIVE, save_frame
from ..sources.folder import FolderWatcher
from .tasks import describe_failure


class FolderWorker(QObject):
    """Scores every photo of a folder (existing first), then, if ``watch``, new ones as they come.

    Runs in its own QThread; talks to the window only through signals."""

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


class CameraWorker(QObject):
    """Reads a camera continuously; every ``interval_ms`` (or when ``snap()`` is called) saves the
    latest frame losslessly to ``save_dir`` and scores it. Stalls and losses are reported and the
    source reconnects by itself; a video file standing in for a camera ends the run."""

    scored = Signal(object, object)  # ScoreRecord, JPEG thumbnail bytes or None
    status = Signal(str, str)  # status, message
    failed = Signal(str)
    finished = Signal(bool)

    def __init__(self, workspace: Workspace, source, save_dir: Path, interval_ms: int = 2000, frame_sleep: float = 0.01):
        super().__init__()
        self.workspace, self.source, self.save_dir = workspace, source, Path(save_dir)
        self.interval, self.frame_sleep = interval_ms / 1000, frame_sleep
        self._cancel, self._snap = threading.Event(), threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def snap(self) -> None:
        self._snap.set()

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:
            self.failed.emit(describe_failure(exc))
        finally:
            self.source.close()
        self.finished.emit(self._cancel.is_set())

    def _run(self) -> None:
        last_status, next_due, latest = None, time.monotonic(), None
        while not self._cancel.is_set():
            frame = self.source.read()
            if frame.status != last_status:
                self.status.emit(frame.status, frame.message)
                last_status = frame.status
            if frame.status == ENDED:
                break
            if frame.status == LIVE:
                latest = frame.image
            due = time.monotonic() >= next_due or self._snap.is_set()
            if latest is not None and due:
                self._snap.clear()
                next_due = time.monotonic() + self.interval
                outcome = score_photo(self.workspace.engine, save_frame(latest, self.save_dir), source="camera")
                thumb = store_scored(self.workspace.db, self.workspace.model_version_id, outcome, keep_thumbnail=False)
                self.scored.emit(outcome.record, thumb)
                latest = None  # never score the same frame twice
            time.sleep(self.frame_sleep)
