import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QInputDialog, QMessageBox

ROOT = str(Path(__file__).resolve().parents[2]) + os.sep
UI, CORE = ROOT + "app/ui/", ROOT + "app/core/"

# Window code allowed to run database statements on the GUI thread, by "file:function". Only the
# window's constructor, which opens its database (integrity check, migrations: 0.6 s on a
# 315 MB file) before there is a window to keep responsive; everything after goes through
# app.ui.tasks.TaskOwner. The list only shrinks.
STILL_ON_THE_GUI_THREAD = {"main_window.py:__init__"}


def _window_caller() -> str | None:
    """Who asked for the statement: walking out from SQLAlchemy, past the core and libraries, the
    first frame of this repository's own code. "file:function" when it is window code (app/ui),
    None when it is the test's (its setup, or a slot it connected)."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(UI):
            return f"{path[len(UI):]}:{frame.f_code.co_name}"
        if path.startswith(ROOT) and not path.startswith(CORE) and ".venv" not in path:
            return None
        frame = frame.f_back
    return None


@pytest.fixture(autouse=True)
def no_database_work_on_the_gui_thread():
    """Fails a test in which window code runs a database statement on the GUI thread: a statement
    there freezes the window for as long as the database takes (20 s measured on a shared
    database of a million rows). A SQLAlchemy hook on every engine compares threads."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    gui = threading.main_thread()  # pytest-qt's QApplication lives on the main thread
    offences: dict[str, str] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread() is not gui:
            return
        caller = _window_caller()
        if caller is not None and caller not in STILL_ON_THE_GUI_THREAD:
            offences.setdefault(caller, " ".join(statement.split())[:100])

    event.listen(Engine, "before_cursor_execute", before)
    try:
        yield offences
    finally:
        event.remove(Engine, "before_cursor_execute", before)
    if os.environ.get("GUI_DB_REPORT"):  # mapping mode: list the offenders instead of failing
        with open(os.environ["GUI_DB_REPORT"], "a") as f:
            for caller, statement in offences.items():
                f.write(f"{caller}\t{statement}\n")
        return
    assert not offences, "database statements on the GUI thread:\n" + "\n".join(
        f"  {caller}: {statement}" for caller, statement in offences.items())


@pytest.fixture(autouse=True)
def own_data_folder(monkeypatch, tmp_path):
    """Each test's window keeps its user data (native map cache, fine-tune runs) in its own folder,
    never the real user's; a relaunch within the test finds it again."""
    monkeypatch.setenv("MOBILEIQA_HOME", str(tmp_path / "home"))


@pytest.fixture(autouse=True)
def no_unanswered_questions(monkeypatch):
    """A question no test answers would wait forever offscreen: it fails the test instead."""
    def unexpected(parent, title, *args, **kwargs):
        raise AssertionError(f"a question dialog no test answered: {title!r}")

    monkeypatch.setattr(QMessageBox, "question", staticmethod(unexpected))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(unexpected))  # a lot id, a name
    from app.ui import reason_dialog

    monkeypatch.setattr(reason_dialog, "ask_reason", lambda parent, decision, codes: unexpected(parent, decision))


@pytest.fixture
def photo_folder(tmp_path):
    """Six photos, from sharp to heavily blurred and noisy, plus one corrupt file."""
    import cv2

    folder = tmp_path / "batch"
    folder.mkdir()
    data = pytest.importorskip("skimage.data")
    base = data.astronaut()[::3, ::3]
    rng = np.random.default_rng(0)
    for i in range(6):
        img = cv2.GaussianBlur(base, (0, 0), 0.1 + i * 1.5) if i else base
        noisy = np.clip(img + rng.normal(0, 6 * i, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"p{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def model_loaded(qtbot, w) -> None:
    """The window loads its model off the GUI thread: wait until it is in."""
    qtbot.waitUntil(lambda: w.workspace.engine is not None and not w.models.busy(), timeout=30000)


def relaunched(qtbot, model_path, tmp_path):
    """The station opened again on the same home (database and settings), its model in."""
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow

    again = MainWindow(model_path, tmp_path / "inspector.db", QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    model_loaded(qtbot, again)
    return again


def fine_tune_ended_with(qtbot, panel, tmp_path, report: dict) -> bool:
    """The Training panel runs a fine-tune whose process ends at once, leaving ``report`` in its
    folder (a stand-in training Python); returns what the panel signalled (True: a version to use)."""
    import json

    saved = tmp_path / "report-to-leave.json"
    saved.write_text(json.dumps(report))
    python = tmp_path / "python-that-reports"
    python.write_text('#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = "--out" ] && out="$2"; shift; done\n'
                      f'mkdir -p "$out" && cp "{saved}" "$out/finetune_report.json"\n')
    python.chmod(0o755)
    panel.python = str(python)
    with qtbot.waitSignal(panel.finished, timeout=30_000) as done:
        panel.start()
    return done.args[0]


def settled(qtbot, w) -> None:
    """Wait for the window's background database and file work to answer (its short-work lane;
    the viewer's decoding and maps run in a lane of their own and may take longer)."""
    from app.ui.tasks import SHORT

    qtbot.waitUntil(lambda: not w.tasks.busy(lane=SHORT), timeout=30000)


@pytest.fixture
def window(qtbot, exported_student, tmp_path):
    from app.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(w)
    model_loaded(qtbot, w)
    yield w
    w.cancel()
