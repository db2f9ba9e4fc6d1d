"""A rater new to the station reads how to rate before the first photo (Ctrl+L at the real
window), once: the station remembers it per rater; F1 or *How to rate* brings it back, and no
vote is taken while it is shown."""
import pytest
from PySide6.QtCore import Qt

from tests.gui.test_labeling_user_actions import rate_the_gallery, votes_by_name, wait_shown
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def type_rater(qtbot, panel, rater: str) -> None:
    qtbot.keyClicks(panel.rater, rater)
    qtbot.keyClick(panel.rater, Qt.Key_Return)


def test_a_new_rater_reads_how_to_rate_first_once_and_again_on_f1(qtbot, window, photo_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    type_rater(qtbot, panel, "ana")
    assert panel.instructions_showing() and panel.session is None  # no photo before the page
    page = panel.instructions_page.text.text()
    for words in ("5&nbsp;&nbsp;Excellent", "1&nbsp;&nbsp;Bad", "Blur", "Noise", "Exposure", "Compression",
                  "What not to judge"):
        assert words in page, words
    qtbot.keyClick(panel, Qt.Key_4)  # a vote typed on the page is refused out loud
    assert panel.hint.text().startswith("Not counted: 4") and "Start rating" in panel.hint.text()
    qtbot.keyClick(panel.instructions_page.done_button, Qt.Key_Return)
    assert not panel.instructions_showing()
    wait_shown(qtbot, panel)
    assert panel.ready()
    qtbot.keyClick(panel, Qt.Key_4)
    wait_shown(qtbot, panel)
    assert list(votes_by_name(window).values()) == [4]

    # F1 mid-session: the page again, the votes off until the rater goes back to the photo.
    qtbot.keyClick(panel, Qt.Key_F1)
    assert panel.instructions_showing() and not panel.ready()
    assert panel.instructions_page.done_button.text() == "Back to the photo"
    qtbot.keyClick(panel, Qt.Key_2)
    assert panel.hint.text().startswith("Not counted: 2") and len(votes_by_name(window)) == 1
    qtbot.keyClick(panel.instructions_page.done_button, Qt.Key_Return)
    assert not panel.instructions_showing() and panel.ready()
    panel.help_button.click()  # the button does the same
    assert panel.instructions_showing()
    panel.instructions_page.done_button.click()
    panel.close()

    # The station remembers: ana goes straight to her photos, a new rater reads first.
    action_for(window, "Ctrl+L").trigger()
    again = window.labeling
    type_rater(qtbot, again, "ana")
    assert not again.instructions_showing()
    wait_shown(qtbot, again)
    assert again.ready()
    again.close()
    action_for(window, "Ctrl+L").trigger()
    type_rater(qtbot, window.labeling, "ben")
    assert window.labeling.instructions_showing()
    window.labeling.close()
