"""The Training window stays on the station's screen: it opens within the screen's free area
(tall content scrolls inside it), and Ctrl+T brings it back once it was minimised; on the real
window. Offscreen, the screen is 800x600: smaller than the 1280x800 station screen it must fit."""
import pytest
from PySide6.QtWidgets import QApplication, QScrollArea

from tests.gui.conftest import settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def inside(outer, inner) -> bool:
    return outer.contains(inner.topLeft()) and outer.contains(inner.bottomRight())


def test_ctrl_t_opens_the_training_window_within_the_screen_and_its_tall_content_scrolls(qtbot, window):
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    qtbot.waitExposed(panel)
    settled(qtbot, window)
    free = (panel.screen() or QApplication.primaryScreen()).availableGeometry()
    assert inside(free, panel.frameGeometry()), (free, panel.frameGeometry())
    # Everything the panel holds is still reachable: in a scroll area when the screen is short.
    scroll = panel.findChild(QScrollArea, "training content")
    assert scroll is not None and scroll.widget().isAncestorOf(panel.start_button)
    assert scroll.widget().isAncestorOf(panel.table) and scroll.widget().isAncestorOf(panel.calibration_label)
    panel.close()


def test_ctrl_t_on_a_minimised_training_window_restores_and_raises_it(qtbot, window):
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    qtbot.waitExposed(panel)
    panel.showMinimized()
    qtbot.waitUntil(panel.isMinimized)
    action_for(window, "Ctrl+T").trigger()
    qtbot.waitUntil(lambda: not panel.isMinimized())
    assert panel.isVisible() and window.training is panel  # the same window, not a second one
    free = (panel.screen() or QApplication.primaryScreen()).availableGeometry()
    assert inside(free, panel.frameGeometry())
    settled(qtbot, window)
    panel.close()
