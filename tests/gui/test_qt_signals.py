"""The Qt binding must survive many signals from worker threads (a folder of 10,000 photos
emits tens of thousands). PySide6 6.12.0 over-released a bool on every emit and aborted the
process after a few thousand; this guards the pinned version."""
import subprocess
import sys

SCRIPT = r"""
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Worker(QObject):
    item = Signal(object, object)
    count = Signal(int, int)
    done = Signal(bool)
    def run(self):
        for i in range(6000):
            self.item.emit(("photo", i), None)
            self.count.emit(i, 6000)
        self.done.emit(True)
seen = []
class Sink(QObject):
    def on_item(self, a, b): seen.append(a)
    def on_count(self, i, n): pass
    def on_done(self, flag): seen.append("done")
sink, thread, worker = Sink(), QThread(), Worker()
worker.moveToThread(thread)
thread.started.connect(worker.run)
worker.item.connect(sink.on_item)
worker.count.connect(sink.on_count)
worker.done.connect(sink.on_done)
thread.start()
while "done" not in seen:
    app.processEvents()
    time.sleep(0.001)
thread.quit(); thread.wait()
print(len(seen))
"""


def test_thousands_of_cross_thread_signals_do_not_crash_the_process():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-800:]
    assert result.stdout.strip() == "6001"


def test_at_close_a_cancelled_batch_thread_ends_without_the_gui_thread_turning_its_event_loop(qtbot):
    """Closing the window waits for the batch's thread while the GUI thread is blocked: the
    thread's own event loop must be told to quit there, not by a queued slot that cannot run
    (every mid-batch quit waited out the whole 5 s timeout)."""
    import threading

    from PySide6.QtCore import QObject, Signal, Slot

    from app.ui.batch_jobs import BatchJobs
    from app.ui.tasks import TaskOwner

    class SlowWorker(QObject):
        finished = Signal(bool)

        def __init__(self):
            super().__init__()
            self.stop = threading.Event()

        def cancel(self):
            self.stop.set()

        @Slot()
        def run(self):
            self.stop.wait(30)
            self.finished.emit(True)

    tasks = TaskOwner()
    jobs = BatchJobs(tasks)
    jobs.start(SlowWorker())
    qtbot.waitUntil(lambda: jobs.busy, timeout=2000)
    jobs.cancel()
    assert tasks.drain(3000), "the batch's thread was still running"
    qtbot.wait(200)  # the worker's queued finished reaches its relay, which lets the ended thread go
    jobs.deleteLater()
    qtbot.wait(50)
