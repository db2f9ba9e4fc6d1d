"""Quitting while a folder of camera-size photos is being scored: the window asks, and once the
person says yes it is gone within 2 s, even with a 24 MP photo half-scored (issue 22: about 8 s
frozen, without asking)."""
import time

import pytest
from PySide6.QtWidgets import QMessageBox

from tests.gui.test_a_whole_shift import camera_like_photo
from tests.gui.test_user_actions import action_for, choose_folder_with_ctrl_o

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_quit_mid_batch_of_24_mp_photos_asks_and_the_window_is_gone_within_2_s(qtbot, window, tmp_path,
                                                                                 monkeypatch):
    folder = tmp_path / "large"
    for i in range(6):
        camera_like_photo(folder / f"cam{i}.jpg", 4000, 6000, seed=i)
    window.show()
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) >= 1, timeout=120000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a, **k: asked.append(text) or QMessageBox.Yes))
    qtbot.wait(300)  # into the next photo's decode and scoring
    assert window.is_busy()
    started = time.monotonic()
    action_for(window, "Ctrl+Q").trigger()
    took = time.monotonic() - started
    assert len(asked) == 1 and "Stop it and quit?" in asked[0]
    assert not window.isVisible() and not window.is_busy()
    assert took < 2.0, f"the window took {took:.1f} s to close"
