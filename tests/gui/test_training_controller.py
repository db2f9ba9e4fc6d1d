"""The training controller without a window: a real Workspace, the panel a MagicMock(spec=...)
(ndv's tests/test_controller.py), what the window must act on observed as signals."""
from unittest.mock import MagicMock

import pytest
from PySide6.QtCore import QSettings

from app.core.site.training_state import TrainingState
from app.core.workspace import Workspace
from app.ui.training_controller import TrainingController
from app.ui.training_panel import TrainingPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def controlled(exported_student, tmp_path, qtbot):
    ws = Workspace(tmp_path / "station.db")
    ws.load_model(exported_student[1])
    panel = MagicMock(spec=TrainingPanel)
    panel.python = None  # no training Python: the pipeline check is the training-setup tests' subject
    busy = [False]
    controller = TrainingController(ws, tmp_path / "runs", QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat),
                                    is_busy=lambda: busy[0], panel_factory=lambda *a, **k: panel)
    yield controller, panel, ws, busy
    controller.tasks.drain()
    ws.close()


def settle(qtbot, controller):
    """The controller's database work is done off the GUI thread: wait for its answers."""
    qtbot.waitUntil(lambda: not controller.tasks.busy(), timeout=20000)


def test_opening_hands_the_panel_the_stations_state_read_from_the_database(controlled, exported_student, qtbot):
    controller, panel, ws, _ = controlled
    controller.open()
    settle(qtbot, controller)
    panel.show_in_front.assert_called_once()
    state = panel.show_state.call_args.args[0]
    assert isinstance(state, TrainingState)
    assert state.photos_rated == 0 and not state.enough_ratings
    assert [v.path for v in state.versions] == [str(ws.model.onnx_path)]
    panel.set_base_model.assert_called_with(ws.model.onnx_path)


def test_a_finished_fine_tune_refreshes_the_versions_shown(controlled, qtbot):
    controller, panel, _, _ = controlled
    controller.open()
    settle(qtbot, controller)
    panel.show_state.reset_mock()
    finished = panel.finished.connect.call_args.args[0]  # what the controller connected
    finished(True)
    settle(qtbot, controller)
    panel.show_state.assert_called_once()


def test_choosing_a_version_asks_the_window_then_shows_the_new_state(controlled, qtbot):
    from app.core.model.trust import current_user

    controller, panel, _, _ = controlled
    controller.open()
    settle(qtbot, controller)
    panel.show_state.reset_mock()
    with qtbot.waitSignal(controller.switch_requested) as asked:
        controller.switch_model("/models/other.onnx")
    assert asked.args == ["/models/other.onnx", current_user()]  # the version, and whose choice
    settle(qtbot, controller)
    panel.show_state.assert_called_once()


def test_a_calibration_change_mid_batch_is_refused_in_the_status_bar(controlled, qtbot):
    controller, panel, ws, busy = controlled
    controller.open()
    busy[0] = True
    changed = []
    controller.scores_changed.connect(changed.append)
    with qtbot.waitSignal(controller.status) as said:
        controller.apply_calibration(None)
    assert "before changing the calibration" in said.args[0] and not changed
    busy[0] = False
    with qtbot.waitSignal(controller.status, check_params_cb=lambda line: not line.endswith("…")) as said:
        controller.apply_calibration(None)
    assert said.args[0].startswith("Removed site calibration") and changed == [{}]


def test_fitting_with_nothing_rated_says_why_on_the_panel(controlled, qtbot):
    controller, panel, _, _ = controlled
    controller.open()
    controller.fit_calibration()
    settle(qtbot, controller)
    text, can_apply = panel.show_calibration.call_args.args
    assert text.startswith("Cannot calibrate") and can_apply is False
