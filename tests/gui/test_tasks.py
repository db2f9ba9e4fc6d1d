"""The window's task owner on its own: work off the GUI thread, answers on it, stale answers
dropped, errors said, nothing left running after drain."""
import threading
import time

import pytest

from app.ui.tasks import TaskOwner

pytestmark = pytest.mark.gui


@pytest.fixture
def owner(qtbot):
    tasks = TaskOwner()
    yield tasks
    tasks.drain(5000)


def wait_idle(qtbot, tasks):
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=5000)


def test_work_runs_off_the_gui_thread_and_its_answer_arrives_on_it(qtbot, owner):
    ran_on, answered_on, answers = [], [], []

    def work():
        ran_on.append(threading.current_thread())
        return 42

    owner.submit("k", work, on_done=lambda v: (answered_on.append(threading.current_thread()), answers.append(v)))
    wait_idle(qtbot, owner)
    assert answers == [42]
    assert ran_on[0] is not threading.main_thread() and answered_on == [threading.main_thread()]


def test_a_newer_request_makes_the_older_answer_stale(qtbot, owner):
    release, answers = threading.Event(), []
    owner.submit("viewer", lambda: (release.wait(5), "old")[1], on_done=answers.append)
    owner.submit("viewer", lambda: "new", on_done=answers.append)
    release.set()
    wait_idle(qtbot, owner)
    assert answers == ["new"]


def test_waiting_work_replaced_never_starts_but_steps_that_must_happen_all_run_in_order(qtbot, owner):
    release, ran, answers = threading.Event(), [], []
    owner.submit("block", lambda: release.wait(5))  # holds the one thread
    owner.submit("read", lambda: ran.append("read 1"))
    owner.submit("read", lambda: ran.append("read 2"))  # the first read never starts
    owner.submit("vote", lambda: ran.append("vote") or "after vote", on_done=answers.append, replace=False)
    owner.submit("vote", lambda: ran.append("undo") or "after undo", on_done=answers.append, replace=False)
    release.set()
    wait_idle(qtbot, owner)
    assert ran == ["read 2", "vote", "undo"]
    assert answers == ["after undo"]  # both stored; only the newest answer is shown


def test_cancel_drops_the_answer(qtbot, owner):
    release, answers = threading.Event(), []
    owner.submit("k", lambda: release.wait(5) and "late", on_done=answers.append)
    owner.cancel("k")
    release.set()
    wait_idle(qtbot, owner)
    assert answers == []


def test_an_error_goes_to_its_handler_or_is_said_in_one_line(qtbot, owner):
    caught = []

    def fail():
        raise OSError("disk full")

    owner.submit("a", fail, on_error=caught.append)
    with qtbot.waitSignal(owner.errored) as said:
        owner.submit("b", fail)
    wait_idle(qtbot, owner)
    assert isinstance(caught[0], OSError)
    assert said.args == ["b", "unexpected error: disk full"]


def test_drain_waits_for_running_work_and_refuses_new_work(qtbot):
    tasks, finished, started = TaskOwner(), [], threading.Event()
    tasks.submit("k", lambda: (started.set(), time.sleep(0.3), finished.append(True)))
    assert started.wait(5)
    assert tasks.drain(5000) and finished == [True]  # what runs ends before drain returns
    assert tasks.submit("k", lambda: finished.append(False)) == 0
    time.sleep(0.1)
    assert finished == [True]


class Loop:
    """A loop worker as the camera's reader is one: runs until told to stop."""

    def __init__(self):
        from PySide6.QtCore import QObject, Signal

        class _Worker(QObject):
            finished = Signal()

            def __init__(self):
                super().__init__()
                self.stopping, self.ran_on, self.rounds = threading.Event(), None, 0

            def stop(self):
                self.stopping.set()

            def run(self):
                self.ran_on = threading.current_thread()
                while not self.stopping.wait(0.01):
                    self.rounds += 1
                self.finished.emit()

        self.worker = _Worker()


def test_a_loop_runs_beside_short_work_and_a_new_one_under_its_key_stops_the_old(qtbot, owner):
    first, second = Loop().worker, Loop().worker
    assert owner.start_loop("camera", first)
    qtbot.waitUntil(lambda: first.rounds > 3, timeout=5000)
    answers = []
    owner.submit("save", lambda: "saved", on_done=answers.append)  # not held up behind the loop
    qtbot.waitUntil(lambda: answers == ["saved"], timeout=5000)
    assert first.ran_on is not threading.main_thread()
    owner.start_loop("camera", second)
    qtbot.waitUntil(lambda: first.stopping.is_set() and owner.loop_running("camera"), timeout=5000)
    qtbot.waitUntil(lambda: second.rounds > 3, timeout=5000)  # the new loop runs; the old one was told to stop
    assert not second.stopping.is_set()


def test_drain_stops_every_loop_and_waits_for_it(qtbot):
    tasks = TaskOwner()
    loop = Loop().worker
    tasks.start_loop("camera", loop)
    qtbot.waitUntil(lambda: loop.rounds > 0, timeout=5000)
    started = time.monotonic()
    assert tasks.drain(5000)
    assert time.monotonic() - started < 2 and loop.stopping.is_set() and not tasks.loop_running("camera")
    assert not tasks.start_loop("camera", Loop().worker)  # nothing starts once drained


def test_long_work_in_a_lane_of_its_own_does_not_keep_the_short_lane_busy(qtbot, owner):
    from app.ui.tasks import SHORT

    release, answers = threading.Event(), []
    owner.submit("maps", lambda: release.wait(5), lane="viewer")
    owner.submit("save", lambda: "saved", on_done=answers.append)
    qtbot.waitUntil(lambda: answers == ["saved"], timeout=5000)
    assert not owner.busy(lane=SHORT) and owner.busy(lane="viewer") and owner.busy()
    assert owner.busy("maps") and not owner.busy("maps", lane=SHORT)
    release.set()
    wait_idle(qtbot, owner)
    assert not owner.busy(lane="viewer")
