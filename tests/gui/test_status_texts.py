"""The status bar's and the progress bar's texts fit a narrow window: elided (or shortened) where
they are drawn, whole in their tooltips, on the real window."""
import time

import pytest

from tests.gui.test_user_actions import signed_in_with_ctrl_u

pytestmark = pytest.mark.gui


def test_a_long_status_message_is_elided_in_a_narrow_window_and_whole_in_its_tooltip(qtbot, window, monkeypatch):
    window.show()
    window.resize(700, 500)
    qtbot.waitExposed(window)
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")  # the first operator: a long message
    bar = window.statusBar()
    message = bar.currentMessage()
    assert message.startswith("Signed in as Ana, the first operator") and message.endswith("more supervisors)")
    shown = bar.shown_text()
    assert shown != message and "…" in shown
    assert shown.startswith("Signed in as") and shown.endswith(")")  # both ends kept, the middle elided
    assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_rect().width()
    assert bar.toolTip() == message

    window.resize(3000, 500)  # room enough: drawn whole, no tooltip needed
    qtbot.waitUntil(lambda: bar.shown_text() == message)
    assert bar.toolTip() == ""


def test_the_progress_text_drops_its_tail_when_the_bar_is_narrow_and_keeps_it_in_a_tooltip(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.batch.batch_started = time.monotonic() - 6.0
    window.batch.jobs.progress.emit(12, 400)  # what a running batch reports
    full = window.progress.toolTip()
    assert full.startswith("12/400 · 0.5 s per photo · about") and full.endswith("left")
    window.progress.setFixedWidth(90)
    qtbot.waitUntil(lambda: window.progress.format() == "12/400")  # the count stays, the rest drops
    window.progress.setFixedWidth(400)
    qtbot.waitUntil(lambda: window.progress.format() == full)


def test_who_which_model_and_which_thresholds_give_way_to_the_message_in_a_narrow_window(qtbot, window):
    # At their full width the permanent labels left the message of the narrowest window a few
    # letters; now each takes at most a share of the bar, elided, whole in its tooltip.
    window.show()
    window.resize(1, 500)  # as narrow as the window goes
    qtbot.waitExposed(window)
    status, bar = window.station_status, window.statusBar()
    message = "Wrote report /a/long/folder/of/reports/report-2026-12-06.pdf (240 photos scored)"
    bar.showMessage(message)
    qtbot.waitUntil(lambda: bar.message_rect().width() >= 0.25 * bar.width())
    operator = status.operator.full_text()
    assert operator.startswith("Not signed in") and status.operator.text() != operator
    assert "…" in status.operator.text() and operator in status.operator.toolTip()
    assert "Ctrl+U" in status.operator.toolTip()
    assert status.profile.shown_text() != status.profile.text() and status.profile.text() in status.profile.toolTip()

    window.resize(2400, 500)  # room enough: all drawn whole
    qtbot.waitUntil(lambda: status.operator.text() == operator and status.profile.shown_text() == status.profile.text())
    assert status.operator.toolTip() == "Sign in or switch operator (Ctrl+U)"
    assert bar.shown_text() == message


def test_after_a_batch_ends_the_progress_bar_says_done_with_the_count_and_the_time_not_the_pace(
        qtbot, window, photo_folder, monkeypatch):
    """It kept "7/7 · 0.7 s per photo" after the batch had ended, as if still working."""
    from tests.gui.test_user_actions import choose_folder_with_ctrl_o

    window.show()
    qtbot.waitExposed(window)
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    text = window.progress.full_text()
    assert text.startswith("Done: 7 photos in ") and text.endswith(" s"), text
    assert "per photo" not in window.progress.format()
