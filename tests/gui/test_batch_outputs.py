"""BatchOutputs on its own: it is given what it works with (no window), says what happened
through ``status``, and its answers from the TaskOwner's thread arrive on the GUI thread."""
from datetime import date

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread

from app.core.workspace import Workspace
from app.ui.batch_outputs import BatchOutputs
from app.ui.gallery import GalleryModel
from app.ui.tasks import TaskOwner

pytestmark = pytest.mark.gui


@pytest.fixture
def outputs(qtbot, tmp_path):
    workspace, tasks = Workspace(tmp_path / "inspector.db"), TaskOwner()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    made = BatchOutputs(workspace, tasks, GalleryModel(), current_path=lambda: None, reviewer=lambda: "Ana",
                        settings=settings)
    yield made
    tasks.drain(5000)
    workspace.close()


def heard(outputs) -> list:
    """(what was said, the thread that said it); a direct connection runs in the emitter's thread."""
    said = []
    outputs.status.connect(lambda text: said.append((text, QThread.currentThread())), Qt.DirectConnection)
    return said


def test_a_decision_with_no_photo_in_view_is_refused_and_said(outputs):
    said = heard(outputs)
    outputs.review_current("accepted")
    assert [text for text, _ in said] == ["Select a scored photo to review"]
    outputs.undo()
    assert said[-1][0] == "Nothing to undo"


def test_the_export_dialog_starts_in_the_folder_of_the_batch_it_was_told_of(outputs, tmp_path):
    outputs.settings.setValue("last_folder", str(tmp_path / "last"))
    assert outputs._proposed("scores", "csv") == str(tmp_path / "last" / f"scores-{date.today():%Y-%m-%d}.csv")
    outputs.batch_started("camera 0", tmp_path / "frames")
    assert outputs.batch_source == "camera 0"
    assert outputs._proposed("report", "html").startswith(str(tmp_path / "frames" / "report-"))


def test_an_export_is_written_off_the_gui_thread_and_its_answer_said_on_it(qtbot, outputs, tmp_path):
    said = heard(outputs)
    outputs.export_csv(tmp_path / "scores.csv")
    qtbot.waitUntil(lambda: len(said) == 2 and not outputs.tasks.busy(), timeout=10000)
    assert said[-1][0] == "Nothing exported: no photo in the gallery has a result from this model"
    gui = QCoreApplication.instance().thread()
    assert all(thread is gui for _, thread in said)
