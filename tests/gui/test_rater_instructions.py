"""A rater new to the station reads how to rate before the first photo (Ctrl+L at the real
window), once: the station remembers it per rater; F1 or *How to rate* brings it back, and no
vote is taken while it is shown."""
import pytest
from PySide6.QtCore import Qt

from tests.gui.test_labeling_user_actions import past_sign_in, rate_the_gallery, votes_by_name, wait_shown
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def type_rater(qtbot, panel, rater: str) -> None:
    qtbot.keyClicks(panel.rater, rater)
    qtbot.keyClick(panel.rater, Qt.Key_Return)
    past_sign_in(qtbot, panel)


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


def start_rating(qtbot, window) -> None:
    """Ctrl+L, Enter on the rater id offered (the operator signed in)."""
    action_for(window, "Ctrl+L").trigger()
    panel = window.labeling
    qtbot.keyClick(panel.rater, Qt.Key_Return)
    past_sign_in(qtbot, panel)


def test_two_operators_at_one_station_each_read_how_to_rate_once_under_their_own_name(
        qtbot, window, photo_folder, monkeypatch, tmp_path, exported_student):
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow
    from tests.gui.conftest import model_loaded
    from tests.gui.test_user_actions import signed_in_with_ctrl_u

    rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7).close()
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    start_rating(qtbot, window)
    panel = window.labeling
    assert panel.rater.text() == "Ana"  # the operator signed in is the rater offered
    assert panel.instructions_showing()
    qtbot.keyClick(panel.instructions_page.done_button, Qt.Key_Return)
    wait_shown(qtbot, panel)
    panel.close()

    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")  # the next shift, same computer login
    start_rating(qtbot, window)
    assert window.labeling.rater.text() == "Ben" and window.labeling.instructions_showing()
    qtbot.keyClick(window.labeling.instructions_page.done_button, Qt.Key_Return)
    wait_shown(qtbot, window.labeling)
    window.labeling.close()
    start_rating(qtbot, window)  # Ben again: straight to the photos
    assert not window.labeling.instructions_showing()
    wait_shown(qtbot, window.labeling)
    window.labeling.close()
    window.close()

    # Another computer login (its own settings) on the site's database: Ana has read them already.
    other = MainWindow(exported_student[1], tmp_path / "inspector.db",
                       QSettings(str(tmp_path / "other-login.ini"), QSettings.IniFormat))
    qtbot.addWidget(other)
    model_loaded(qtbot, other)
    qtbot.waitUntil(lambda: not other.is_busy(), timeout=30000)
    rate_the_gallery(qtbot, other, monkeypatch, photo_folder, 7).close()
    signed_in_with_ctrl_u(qtbot, other, monkeypatch, "Ana")
    start_rating(qtbot, other)
    assert not other.labeling.instructions_showing()
    wait_shown(qtbot, other.labeling)
    other.labeling.close()
    other.close()


def test_raters_a_stations_settings_listed_as_having_read_how_to_rate_are_not_asked_again(
        qtbot, window, photo_folder, monkeypatch):
    window.settings.setValue("rating/instructions_seen", ["ana", "ben"])  # as kept before the database did
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    type_rater(qtbot, panel, "ana")
    assert not panel.instructions_showing()
    wait_shown(qtbot, panel)
    panel.close()
    assert window.settings.value("rating/instructions_seen") is None  # moved, not kept in two places
    action_for(window, "Ctrl+L").trigger()
    type_rater(qtbot, window.labeling, "cleo")
    assert window.labeling.instructions_showing()
    window.labeling.close()
