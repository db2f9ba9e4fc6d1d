"""Ctrl+C and the local cluster's processes.

A terminal's Ctrl+C goes to the whole process group, the Dask worker processes included, and only
the command decides what it means (it stops the run, closes the cluster, and says so in one line).
So the local workers ignore SIGINT from their birth: they are spawned while this process ignores it
(an ignored signal stays ignored across exec; a handled one does not), and a worker that its nanny
restarts later ignores it from the ``IgnoreCtrlC`` plugin's set-up on. A Ctrl+C while the cluster
starts is held until it has started, then raised: Dask's start interrupted halfway leaves a
cluster that cannot be closed (a traceback at exit).

An ignored Ctrl+C is dropped by whichever thread the kernel hands it to, unless every thread blocks
it: threads started while it is held (ONNX Runtime's, as it is imported; Dask's event loop and
its helpers) inherit the block, so the command imports ONNX Runtime inside a hold too.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from distributed.diagnostics.plugin import WorkerPlugin


_held = False  # a hold is in force (the command holds around start_client, which holds too)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Processes started inside ignore Ctrl+C; one pressed meanwhile is raised on leaving (a
    blocked signal stays pending even while ignored). Where signals cannot be blocked (Windows, a
    thread other than the main one), nothing changes."""
    global _held
    if _held or not (_main_thread() and hasattr(signal, "pthread_sigmask")):
        yield  # held already: putting SIG_IGN back on leaving would drop the pending Ctrl+C
        return
    from multiprocessing import resource_tracker

    # multiprocessing unblocks SIGINT in the thread that starts its resource tracker (Dask's event
    # loop, at the first worker's spawn): started here, before the block, it is running already then.
    resource_tracker.ensure_running()
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    old_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    _held = True
    try:
        yield
    finally:
        _held = False
        signal.signal(signal.SIGINT, old_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)  # a Ctrl+C meanwhile: KeyboardInterrupt here


@contextmanager
def ctrl_c_ignored() -> Iterator[None]:
    """While the command closes the cluster and the database: a Ctrl+C then (a second press, or
    the first reaching this process late) would cut the close short and leave Dask's own clean-up
    to print a traceback at exit; the run's outcome is already decided."""
    if not _main_thread():
        yield
        return
    old_handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old_handler)


class IgnoreCtrlC(WorkerPlugin):
    """A local worker, restarted by its nanny after the cluster started, ignores Ctrl+C too.
    Registered for the local cluster only: a site's own workers keep their signals."""

    name = "mobileiqa-ignore-ctrl-c"

    def setup(self, worker=None) -> None:
        if _main_thread():  # a worker's event loop runs in its process's main thread
            signal.signal(signal.SIGINT, signal.SIG_IGN)
