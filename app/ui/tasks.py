"""The one owner of the window's short background work (database statements and file writes),
after superqt's thread workers and ndv's stale-request rule.

``submit(key, fn, on_done, on_error)`` runs ``fn()`` on the owner's own thread. Its result comes
back on the GUI thread through the owner's bound slots (a cross-thread signal is queued only to a
receiver's slot, never to a lambda), and only if it is still the newest work submitted under
``key``: a newer ``submit`` or a ``cancel`` makes older work stale, so a late answer can never
overwrite a newer one. A waiting task that went stale never starts. Every task ends in exactly
one of ``on_done`` or ``on_error`` (or is dropped as stale), then ``finished``; an error with no
handler is reported through ``errored`` as one line, never lost in a thread.

One thread, so the work of the window runs in the order it was asked for (a save before the
export that follows it) and never twice at once against the same Workspace. ``drain`` refuses new
work and waits for what runs: the window calls it before the database closes.

Work that must not wait behind the window's short work, nor hold it up (the viewer's decoding
and damage maps: seconds a photo), runs in a ``lane`` of its own: one more thread, same rules,
same owner. Work that runs until stopped (a folder batch, a camera's reading loop) cannot take a
lane's thread: ``start_loop`` gives it a QThread of its own, still owned here. ``drain`` stops
and waits for all of it, so the window has one owner of its threads, emptied before the
database closes (tests/gui/test_one_owner.py fails a thread or pool made anywhere else in app/ui).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Qt, Signal, Slot

from ..core.store.faults import StoreError


class _Signals(QObject):
    done = Signal(object, int, object)  # key, generation, result
    failed = Signal(object, int, object)  # key, generation, exception
    ended = Signal(object, int)  # key, generation: always last


class _Pending(NamedTuple):
    """Submitted work, kept (with its signals) until its ``ended`` arrives."""

    task: QRunnable
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Exception], None] | None
    pool: QThreadPool


class _Loop(NamedTuple):
    worker: QObject
    thread: QThread
    stop: Callable[[], None]


class _Task(QRunnable):
    def __init__(self, key, generation: int, fn: Callable[[], Any], signals: _Signals):
        super().__init__()
        self.key, self.generation, self.fn, self.signals = key, generation, fn, signals
        self.setAutoDelete(False)  # the owner keeps it until ``ended`` has arrived

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # said on the GUI thread, never lost here
            self.signals.failed.emit(self.key, self.generation, exc)
        else:
            self.signals.done.emit(self.key, self.generation, result)
        finally:
            self.signals.ended.emit(self.key, self.generation)


SHORT = "short"  # the lane of the window's short work, in the order asked


class TaskOwner(QObject):
    errored = Signal(object, str)  # key, one line: a failure no ``on_error`` took
    idle = Signal()  # nothing submitted is waiting or running

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lanes: dict[str, QThreadPool] = {}
        self.pool = self._lane(SHORT)
        self._latest: dict[Any, int] = {}
        self._next = 0
        # (key, generation) -> the work; a task and its signals live here until ``ended``
        # arrives: dropped earlier, PySide would drop its queued signals with it.
        self._pending: dict[tuple, _Pending] = {}
        self._closed = False
        self.ran = 0  # tasks started (tests count them)
        self._loops: dict[Any, _Loop] = {}  # key -> the loop running under it
        self._stopping: list[_Loop] = []  # told to stop, maybe not ended yet

    def _lane(self, name: str) -> QThreadPool:
        pool = self._lanes.get(name)
        if pool is None:
            pool = self._lanes[name] = QThreadPool(self)
            pool.setMaxThreadCount(1)  # in order within a lane; never twice at once
        return pool

    def submit(self, key, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None, replace: bool = True,
               lane: str = SHORT) -> int:
        """Run ``fn()`` off the GUI thread; returns its generation (0 once drained: nothing runs).

        ``replace``: older work under ``key`` still waiting never starts (a read the newer one
        supersedes). False for work that must happen (a vote, then its undo): everything runs in
        order, and still only the newest answer is delivered. ``lane``: SHORT, or the name of a
        thread of its own for work that must not queue behind the short work (one key, one lane)."""
        if self._closed:
            return 0
        self._next += 1
        generation = self._next
        if replace:
            self._drop_waiting(key)
        self._latest[key] = generation
        signals = _Signals()
        signals.done.connect(self._done)
        signals.failed.connect(self._failed)
        signals.ended.connect(self._ended)
        task = _Task(key, generation, fn, signals)
        pool = self._lane(lane)
        self._pending[(key, generation)] = _Pending(task, on_done, on_error, pool)
        self.ran += 1
        pool.start(task)
        return generation

    def is_current(self, key, generation: int) -> bool:
        return self._latest.get(key) == generation

    def busy(self, key=None, lane: str | None = None) -> bool:
        """Work waiting or running (under ``key``, or any; in ``lane``, or in any lane)."""
        pool = self._lanes.get(lane) if lane is not None else None
        return any((key is None or k == key) and (lane is None or entry.pool is pool)
                   for (k, _), entry in self._pending.items())

    def cancel(self, key) -> None:
        """Whatever was submitted under ``key`` is stale: waiting work never starts, running work's
        answer is dropped (a task that already touched the database keeps what it committed)."""
        self._drop_waiting(key)
        self._latest.pop(key, None)

    def drain(self, ms: int = 30000) -> bool:
        """Refuse new work, drop what waits, stop every loop, wait for what runs; True when
        nothing is left."""
        self._closed = True
        for key in list(self._latest):
            self.cancel(key)
        for key in list(self._loops):
            self.stop_loop(key)
        loops_ended = all(loop.thread.wait(ms) for loop in self._stopping)
        lanes_done = all(pool.waitForDone(ms) for pool in self._lanes.values())
        return lanes_done and loops_ended

    def wait(self, lane: str = SHORT, ms: int = 30000) -> bool:
        """Wait for what the lane runs and has waiting (tests, benchmarks); True when it is done."""
        return self._lane(lane).waitForDone(ms)

    def threads_working(self) -> int:
        """Threads of this owner still running work: a lane's, or a loop's (stopped or not)."""
        lanes = sum(pool.activeThreadCount() for pool in self._lanes.values())
        loops = [loop for loop in (*self._loops.values(), *self._stopping) if not loop.thread.isFinished()]
        return lanes + len(loops)

    def start_loop(self, key, worker: QObject, stop: Callable[[], None] | None = None) -> bool:
        """Run ``worker.run()`` in a thread of its own until it returns; a loop already under
        ``key`` is stopped first (not waited for). ``worker`` has ``run()``, a ``finished``
        signal emitted last, and ``stop()`` (or the ``stop`` given: sets a flag, never waits);
        its other signals are the caller's to connect, to slots (and to tell a stale loop's late
        ones apart). False once drained."""
        self.stop_loop(key)
        if self._closed:
            return False
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit, Qt.DirectConnection)  # the thread ends with its loop
        self._loops[key] = _Loop(worker, thread, stop or worker.stop)
        thread.start()
        return True

    def stop_loop(self, key) -> None:
        """Tell the loop under ``key`` to stop; it ends by itself (``drain`` waits for it)."""
        loop = self._loops.pop(key, None)
        if loop is not None:
            loop.stop()
            self._stopping.append(loop)
        # Threads that have ended are let go; one still ending stays held until it has.
        self._stopping = [loop for loop in self._stopping if not loop.thread.isFinished()]

    def loop_running(self, key) -> bool:
        loop = self._loops.get(key)
        return loop is not None and not loop.thread.isFinished()

    def _drop_waiting(self, key) -> None:
        for (k, generation), entry in list(self._pending.items()):
            if k == key and entry.pool.tryTake(entry.task):  # not started: it never will
                del self._pending[(k, generation)]
        if not self._pending:
            self.idle.emit()

    @Slot(object, int, object)
    def _done(self, key, generation: int, result) -> None:
        entry = self._pending.get((key, generation))
        if entry is not None and self.is_current(key, generation) and entry.on_done is not None:
            entry.on_done(result)

    @Slot(object, int, object)
    def _failed(self, key, generation: int, exc) -> None:
        entry = self._pending.get((key, generation))
        if entry is None or not self.is_current(key, generation):
            return
        if entry.on_error is not None:
            entry.on_error(exc)
        else:
            self.errored.emit(key, describe_failure(exc))

    @Slot(object, int)
    def _ended(self, key, generation: int) -> None:
        self._pending.pop((key, generation), None)
        if self._latest.get(key) == generation:
            del self._latest[key]
        if not self._pending:
            self.idle.emit()


def describe_failure(exc: Exception) -> str:
    """One line a supervisor can act on, never a traceback."""
    database = isinstance(exc, StoreError) or type(exc).__module__.startswith("sqlalchemy")
    kind = "database" if database else "unexpected"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{kind} error: {first[:300]}"
