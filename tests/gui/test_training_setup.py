"""The Training panel from a ./run.sh install (no torch) at the real window: a meter of the photos
with enough votes, what a fine-tune needs said plainly, and the training pipeline installed on
request in the background, its output shown, a failure one clear line. torch is never
uninstalled here: the availability check is patched, and the install command never runs (the
test hands in its runner)."""
import pytest
from PySide6.QtWidgets import QMessageBox

from app.core.site import training_setup
from tests.gui.conftest import settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def open_training(qtbot, window):
    action_for(window, "Ctrl+T").trigger()
    settled(qtbot, window)  # the station's state and the pipeline check answer off the GUI thread
    return window.training


def answer_questions(monkeypatch, answer) -> list:
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: (asked.append((title, text)), answer)[1]))
    return asked


def test_the_meter_counts_photos_with_enough_votes_of_those_a_fine_tune_needs(qtbot, window):
    from app.core.site.finetune_job import Recipe

    panel = open_training(qtbot, window)
    recipe = Recipe.read()  # training/configs/finetune.json, as the fine-tune reads it
    assert panel.meter.isVisible() and panel.meter.maximum() == recipe.min_photos == 30
    assert panel.meter.value() == 0
    assert panel.meter.text() == f"0 of {recipe.min_photos} photos have {recipe.min_votes}+ votes"
    panel.close()


@pytest.fixture
def without_torch(monkeypatch):
    """The training Python lacks the pipeline until ``state["installed"]`` turns True."""
    state = {"installed": False, "checked": []}

    def missing(python):
        state["checked"].append(python)
        return [] if state["installed"] else ["torch", "timm"]

    monkeypatch.setattr(training_setup, "missing_modules", missing)
    return state


def test_without_torch_the_panel_says_what_is_needed_and_installs_it_on_request(qtbot, window, monkeypatch,
                                                                                without_torch):
    panel = open_training(qtbot, window)
    assert without_torch["checked"] == [panel.python]
    said = panel.setup_label.text()
    command = training_setup.shown(training_setup.install_command(panel.python))
    assert panel.setup_label.isVisible() and "torch and timm" in said and command in said
    assert panel.install_button.isVisible() and not panel.start_button.isEnabled()

    ran = []

    def runner(cmd, on_line, started=None):  # pip, played: lines as they come, then success
        ran.append(cmd)
        on_line("Collecting torch==2.14.1")
        on_line("Successfully installed timm-1.0.31 torch-2.14.1")
        without_torch["installed"] = True
        return 0, "Successfully installed timm-1.0.31 torch-2.14.1"

    window.training_controller.install_runner = runner
    asked = answer_questions(monkeypatch, QMessageBox.Yes)
    panel.install_button.click()
    qtbot.waitUntil(lambda: not window.training_controller.installing(), timeout=10000)
    settled(qtbot, window)
    assert asked and command in asked[0][1]  # the supervisor saw what runs before it ran
    assert ran == [training_setup.install_command(panel.python)]
    output = panel.install_output.toPlainText()
    assert output.startswith(f"$ {command}") and "Successfully installed" in output
    assert "is installed" in panel.status.text()
    assert not panel.setup_label.isVisible() and not panel.install_button.isVisible()  # checked again: ready
    assert not panel.start_button.isEnabled()  # still: the station has no ratings yet
    panel.close()


def test_an_install_that_fails_offline_says_so_in_one_line(qtbot, window, monkeypatch, without_torch):
    panel = open_training(qtbot, window)
    offline = ("Collecting torch==2.14.1\n"
               "  WARNING: Retrying ... Failed to establish a new connection: [Errno -3] Temporary failure in name "
               "resolution\n"
               "ERROR: Could not find a version that satisfies the requirement torch==2.14.1 (from versions: none)\n"
               "ERROR: No matching distribution found for torch==2.14.1")

    def runner(cmd, on_line, started=None):
        for line in offline.splitlines():
            on_line(line)
        return 1, offline

    window.training_controller.install_runner = runner
    answer_questions(monkeypatch, QMessageBox.Yes)
    panel.install_button.click()
    qtbot.waitUntil(lambda: not window.training_controller.installing(), timeout=10000)
    text = panel.status.text()
    assert text.startswith("The training pipeline was not installed: No matching distribution found for torch==2.14.1")
    assert "internet" in text and "Traceback" not in text and "\n" not in text
    assert "Failed to establish" in panel.install_output.toPlainText()  # the whole output, above
    assert panel.setup_label.isVisible() and panel.install_button.isEnabled()  # it can be tried again
    assert window.statusBar().currentMessage() == text

    def cannot_start(cmd, on_line, started=None):
        raise FileNotFoundError(2, "No such file or directory")

    window.training_controller.install_runner = cannot_start
    panel.install_button.click()
    qtbot.waitUntil(lambda: not window.training_controller.installing(), timeout=10000)
    assert "could not run" in panel.status.text() and "No such file or directory" in panel.status.text()

    ran = []
    window.training_controller.install_runner = lambda *a, **k: ran.append(a) or (0, "")
    answer_questions(monkeypatch, QMessageBox.No)  # the supervisor changes their mind
    panel.install_button.click()
    settled(qtbot, window)
    assert ran == []
    panel.close()
