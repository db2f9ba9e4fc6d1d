"""The folder's batch, run as a loop of the window's TaskOwner (app.ui.tasks).

Each batch is a job with an id, its worker run by the owner's ``start_loop`` under one key (a
thread of its own, so a watched folder never holds up the window's short work). Only the current
job's signals reach the window: when a new batch starts, the old one is cancelled and forgotten,
its late ``scored`` or ``finished`` are dropped here, and its thread is left to end by itself
(the GUI thread never waits on a worker; the owner's ``drain`` does, at close). A worker's
unexpected error arrives as ``failed`` and ends the job, so the window is never left busy.
``busy`` is derived from the live current job, never kept beside it.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from .tasks import TaskOwner

KEY = "folder batch"


class _Relay(QObject):
    """Lives in the GUI thread: a worker's signals arrive here queued, tagged with their job."""

    def __init__(self, owner: BatchJobs, job_id: int, worker):
        super().__init__(owner)
        # The worker is kept until its ``finished`` arrives: dropped earlier, PySide would drop
        # its queued signals with it.
        self.owner, self.job_id, self.worker = owner, job_id, worker

    def _forward(self, name: str, *args) -> None:
        if self.job_id == self.owner._current:  # a stale job's signals stop here
            getattr(self.owner, name).emit(*args)

    # One slot per worker signal: Qt queues a cross-thread signal only to a receiver's slot.
    @Slot(object, object)
    def scored(self, record, thumb):
        self._forward("scored", record, thumb)

    @Slot(int, int)
    def progress(self, done, total):
        self._forward("progress", done, total)

    @Slot(str)
    def removed(self, path):
        self._forward("removed", path)

    @Slot(str, str)
    def moved(self, old, new):
        self._forward("moved", old, new)

    @Slot(str, str)
    def status(self, status, message):
        self._forward("status", status, message)

    @Slot(str)
    def failed(self, message):
        self._forward("failed", message)

    @Slot(bool)
    def finished(self, cancelled):
        self.owner._live.discard(self)
        self.deleteLater()
        if self.job_id == self.owner._current:
            self.owner._worker = None
            self.owner.finished.emit(cancelled)


class BatchJobs(QObject):
    scored = Signal(object, object)  # ScoreRecord, JPEG thumbnail bytes or None
    progress = Signal(int, int)  # done, known total
    removed = Signal(str)
    moved = Signal(str, str)
    status = Signal(str, str)  # camera status, message
    failed = Signal(str)  # what stopped the batch
    finished = Signal(bool)  # True when cancelled

    def __init__(self, tasks: TaskOwner, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self._current = 0
        self._worker = None
        self._live: set[_Relay] = set()  # every job whose worker may still run, current or stale

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def worker(self):
        return self._worker

    def start(self, worker) -> int:
        self.cancel()
        self._current += 1
        relay = _Relay(self, self._current, worker)
        for name in ("scored", "progress", "removed", "moved", "status", "failed", "finished"):
            signal = getattr(worker, name, None)
            if signal is not None:
                signal.connect(getattr(relay, name))
        if self.tasks.start_loop(KEY, worker, stop=worker.cancel):
            self._live.add(relay)
            self._worker = worker
        else:  # the window is closing: nothing starts
            relay.deleteLater()
        return self._current

    def cancel(self) -> None:
        """Stop the current batch without waiting for it; its remaining signals are dropped."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
            self._current += 1
            self.finished.emit(True)


def ended_text(ending: str, done: int, seconds: float) -> str:
    """'Done: 17 photos in 12 s' (the progress bar once a batch ended: its pace no longer applies)."""
    took = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    return f"{ending}: {done} photo{'s' if done != 1 else ''} in {took}"


def progress_text(done: int, total: int, seconds: float) -> str:
    """'12/52 · 0.4 s per photo · about 16 s left' (the status bar's progress)."""
    text = f"{done}/{total}"
    if done:
        per = seconds / done
        text += f" · {per:.1f} s per photo"
        if total > done:
            left = per * (total - done)
            text += f" · about {left:.0f} s left" if left < 120 else f" · about {left / 60:.0f} min left"
    return text
