"""The window has one owner of its background work (app/ui/tasks.py): no other file of app/ui
makes a thread or a pool, and once the window is closed none of its threads is left working."""
import ast
from pathlib import Path

import pytest

import app.ui

pytestmark = pytest.mark.gui

UI = Path(app.ui.__file__).parent
# What makes a thread or a pool of threads, by whatever module it is reached.
THREAD_MAKERS = {"QThread", "QThreadPool", "QRunnable", "Thread", "ThreadPoolExecutor", "ProcessPoolExecutor",
                 "globalInstance", "start_new_thread"}


def _threads_made(source: str) -> list[str]:
    """Each call, base class or import that makes a thread or a pool: 'line N: NAME'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Call):
            names = [node.func]
        elif isinstance(node, ast.ClassDef):
            names = list(node.bases)
        elif isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: {a.name}" for a in node.names if a.name in THREAD_MAKERS]
        for name in names:
            called = name.attr if isinstance(name, ast.Attribute) else getattr(name, "id", None)
            if called in THREAD_MAKERS:
                found.append(f"line {node.lineno}: {called}")
    return found


def test_the_source_check_finds_a_pool_made_outside_the_owner():
    assert _threads_made("from PySide6.QtCore import QThreadPool\npool = QThreadPool()")
    assert _threads_made("import concurrent.futures as f\nf.ThreadPoolExecutor(2)")
    assert _threads_made("import threading\nthreading.Thread(target=print).start()")
    assert _threads_made("from PySide6 import QtCore\nclass Job(QtCore.QRunnable):\n    pass")
    assert not _threads_made("from .tasks import TaskOwner\ntasks = TaskOwner()")


def test_no_file_of_the_window_but_the_task_owner_makes_a_thread_or_a_pool():
    offenders = {path.name: found for path in sorted(UI.glob("*.py")) if path.name != "tasks.py"
                 for found in [_threads_made(path.read_text(encoding="utf-8"))] if found}
    assert offenders == {}, "background work in app/ui goes through app/ui/tasks.py (TaskOwner)"


def test_closing_mid_batch_with_a_photo_in_the_viewer_leaves_no_thread_of_the_window_working(
        qtbot, window, make_photos, tmp_path):
    from PySide6.QtCore import QThread, QThreadPool

    folder = tmp_path / "watched"
    make_photos(folder, 4, (480, 640))
    window.watch.setChecked(True)  # the batch runs until stopped: only the close ends it
    window.batch.open_folder(folder)
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=30000)  # the viewer's lane has worked
    window.station_sync.poll_now()  # the site's read, in flight or done
    assert window.is_busy() and window.tasks.threads_working() >= 1

    window.close()

    assert window.tasks.threads_working() == 0
    # Every thread and pool the window holds is the owner's, and none is running.
    assert all(t.parent() is window.tasks and t.isFinished() for t in window.findChildren(QThread))
    assert all(p.parent() is window.tasks and p.activeThreadCount() == 0 for p in window.findChildren(QThreadPool))
