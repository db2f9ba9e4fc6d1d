"""A rater at the real window: Ctrl+L from a scored folder, signing in and answering with the
keys, real files on disk (one damaged after it was scored); dialogs answered."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton

from app.core.ratings.session import standing_votes
from tests.gui.test_user_actions import action_for, answer_item_dialog, choose_folder_with_ctrl_o

pytestmark = pytest.mark.gui

BIG = (1600, 1200)  # larger than the panel: fitted, or at 100 % with scroll bars


@pytest.fixture
def big_folder(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:BIG[1], 0:BIG[0]].astype(np.float32)
    for i in range(3):
        base = (np.sin(xx / (30 + 7 * i)) * np.cos(yy / 23) * 70 + 128)[..., None] * [1.0, 0.9, 0.8]
        img = np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"b{i}.jpg", quality=90)
    return folder


def rate_the_gallery(qtbot, window, monkeypatch, folder, n_files):
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == n_files and not window.is_busy(), timeout=30000)
    answer_item_dialog(monkeypatch, "The photos in the gallery")
    action_for(window, "Ctrl+L").trigger()
    return window.labeling


def past_sign_in(qtbot, panel) -> None:
    """Until the site's record said whether the rater has read how to rate (asked off the GUI
    thread): the page is shown, or the session opened, or the sign-in failed."""
    qtbot.waitUntil(lambda: panel.instructions_showing() or panel.session is not None or panel.rater.isEnabled(),
                    timeout=10000)


def sign_in_with_keys(qtbot, panel, rater: str) -> None:
    qtbot.keyClicks(panel.rater, rater)
    qtbot.keyClick(panel.rater, Qt.Key_Return)
    past_sign_in(qtbot, panel)
    if panel.instructions_showing():  # a rater new to the station reads how to rate first
        qtbot.keyClick(panel.instructions_page.done_button, Qt.Key_Return)


def cannot_be_shown(panel) -> bool:
    return "cannot be shown" in panel.photo.text()


def wait_shown(qtbot, panel) -> None:
    """Until the rater's last step is stored (off the GUI thread) and the photo is on screen, or
    said not to open, or the batch is done."""
    qtbot.waitUntil(lambda: panel.session is not None and not panel.tasks.busy("labeling") and (
        panel.ready() or panel.item is None or cannot_be_shown(panel)), timeout=10000)


def votes_by_name(window) -> dict[str, int]:
    return {Path(p).name: v for _, p, v in standing_votes(window.workspace.db)}


def test_a_photo_damaged_after_scoring_is_skipped_with_s_and_offered_again_at_the_next_sitting(
        qtbot, window, photo_folder, monkeypatch):
    import sqlite3

    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    damaged = photo_folder / "p3.png"
    whole = damaged.read_bytes()
    damaged.write_bytes(whole[:40])  # cut short after it was scored (a sync gone wrong)
    sign_in_with_keys(qtbot, panel, "rater-1")
    broken_seen = 0
    for _ in range(10):
        wait_shown(qtbot, panel)
        if panel.item is None:
            break
        if cannot_be_shown(panel):
            broken_seen += 1
            assert Path(panel.item.path).name == "p3.png" and not any(b.isEnabled() for b in panel.buttons.values())
            qtbot.keyClick(panel, Qt.Key_4)  # no vote on a photo nobody saw: refused, and told so
            assert panel.hint.text().startswith("Not counted: 4") and "skip" in panel.hint.text()
            assert panel.skip_button.isEnabled()
            qtbot.keyClick(panel, Qt.Key_S)
        else:
            qtbot.keyClick(panel, Qt.Key_3)
    assert panel.item is None and broken_seen == 1  # skipped once, not offered again in this sitting
    assert "1 could not be shown" in panel.photo.text()
    assert panel.progress.text() == "5 of 6 answered, 1 skipped"
    assert sorted(votes_by_name(window)) == ["p0.png", "p1.png", "p2.png", "p4.png", "p5.png"]  # no vote for p3
    with sqlite3.connect(window.workspace.db.url.removeprefix("sqlite:///")) as c:
        (reason,) = c.execute("select reason from skips where withdrawn_at is null").fetchone()
    assert "p3.png" in reason  # why it was skipped, recorded with the skip

    damaged.write_bytes(whole)  # restored; the rater comes back another day
    panel.close()
    action_for(window, "Ctrl+L").trigger()
    again = window.labeling
    sign_in_with_keys(qtbot, again, "rater-1")
    wait_shown(qtbot, again)
    assert again.ready() and Path(again.item.path).name == "p3.png" and "earlier sitting" in again.hint.text()
    qtbot.keyClick(again, Qt.Key_2)
    wait_shown(qtbot, again)
    assert again.item is None and "every photo of this batch is rated" in again.photo.text()
    assert votes_by_name(window)["p3.png"] == 2 and len(votes_by_name(window)) == 6
    again.close()


def test_z_shows_the_photo_at_100_percent_and_back_fitted(qtbot, window, big_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, big_folder, 3)
    sign_in_with_keys(qtbot, panel, "rater-2")
    wait_shown(qtbot, panel)
    fitted = panel.photo.pixmap().size()
    assert fitted.width() < BIG[0] and "fitted" in panel.scale.text()
    qtbot.keyClick(panel, Qt.Key_Z)
    assert panel.photo.pixmap().size() == QSize(*BIG) and panel.scale.text() == "shown at 100 %"
    bar = panel.view.horizontalScrollBar()
    assert bar.maximum() > 0 and abs(bar.value() - bar.maximum() / 2) <= 1 and panel.actual.isChecked()  # its middle
    qtbot.keyClick(panel, Qt.Key_4)  # Z is not a vote, 4 is
    wait_shown(qtbot, panel)
    assert panel.session.progress()[0] == 1
    assert panel.photo.pixmap().size() == QSize(*BIG)  # the rater's choice holds for the next photo
    panel.actual.click()
    assert panel.photo.pixmap().size() == fitted and not panel.actual.isChecked()
    panel.close()


def test_vote_keys_pressed_faster_than_the_next_photo_loads_are_refused_out_loud(qtbot, window, photo_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    sign_in_with_keys(qtbot, panel, "rater-3")
    qtbot.keyClick(panel, Qt.Key_3)  # before the first photo is on screen
    assert panel.hint.text().startswith("Not counted: 3") and "wait until the photo is shown" in panel.hint.text()
    wait_shown(qtbot, panel)
    assert votes_by_name(window) == {}
    first = Path(panel.item.path).name
    for key in (Qt.Key_4, Qt.Key_2, Qt.Key_5):  # no event loop in between: the next photo is not shown yet
        qtbot.keyClick(panel, key)
    assert panel.hint.text().startswith("Not counted: 2, 5")  # every key refused is named
    wait_shown(qtbot, panel)
    assert panel.session.progress()[0] == 1 and votes_by_name(window) == {first: 4}
    second = Path(panel.item.path).name
    assert second != first
    qtbot.keyClick(panel, Qt.Key_5)
    wait_shown(qtbot, panel)
    assert votes_by_name(window) == {first: 4, second: 5}
    votes = [s for s in panel.findChildren(QShortcut) if s.key().toString() in "12345"]
    assert len(votes) == 5 and not any(s.autoRepeat() for s in votes)  # a held key votes once
    panel.close()


def test_the_photo_is_refitted_when_the_panel_is_resized(qtbot, window, big_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, big_folder, 3)
    panel.resize(700, 560)
    sign_in_with_keys(qtbot, panel, "rater-4")
    wait_shown(qtbot, panel)
    small = panel.photo.pixmap().size()
    panel.resize(1200, 1000)
    qtbot.waitUntil(lambda: panel.photo.pixmap().width() > small.width(), timeout=5000)
    viewport = panel.view.viewport().size()
    shown = panel.photo.pixmap().size()
    assert shown.width() <= viewport.width() and shown.height() <= viewport.height()
    assert max(shown.width() - viewport.width(), shown.height() - viewport.height()) >= -2  # it fills one side
    panel.resize(600, 480)
    qtbot.waitUntil(lambda: panel.photo.pixmap().width() < small.width(), timeout=5000)
    panel.close()


def test_a_photo_smaller_than_the_panel_is_shown_at_its_size_never_enlarged(qtbot, window, photo_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    panel.resize(1200, 1000)
    sign_in_with_keys(qtbot, panel, "rater-5")
    wait_shown(qtbot, panel)
    with Image.open(panel.item.path) as img:
        assert panel.photo.pixmap().size() == QSize(*img.size)  # enlarging would blur what is rated
    assert panel.scale.text().startswith("shown at 100 %")
    panel.close()


def test_quitting_the_window_closes_the_labeling_panel(qtbot, window, photo_folder, monkeypatch):
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    sign_in_with_keys(qtbot, panel, "rater-6")
    wait_shown(qtbot, panel)
    action_for(window, "Ctrl+Q").trigger()
    assert not panel.isVisible()  # its votes went to the database the window closed


def test_shortcut_keys_of_the_panel(qtbot, window, photo_folder, monkeypatch):
    """Each key does one thing: 1-5 vote, S skips, Z toggles 100 %, Ctrl+Z and Backspace undo, F1
    shows how to rate."""
    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    keys = [s.key().toString(QKeySequence.PortableText) for s in panel.findChildren(QShortcut)]
    assert sorted(keys) == sorted(["1", "2", "3", "4", "5", "S", "Z", "Ctrl+Z", "Backspace", "F1"])
    panel.close()


def test_answers_given_while_the_training_window_is_open_show_in_it_at_once(qtbot, window, photo_folder, monkeypatch):
    """A supervisor watching the Training window (Ctrl+T) while a rater answers (Ctrl+L) sees each
    stored answer in its rated-photos table and meter without opening it again; an undo too."""
    from tests.gui.conftest import settled

    panel = rate_the_gallery(qtbot, window, monkeypatch, photo_folder, 7)
    action_for(window, "Ctrl+T").trigger()
    settled(qtbot, window)
    training = window.training
    assert training.isVisible() and training.ratings_table.rowCount() == 0
    sign_in_with_keys(qtbot, panel, "rater-7")
    for key in (Qt.Key_4, Qt.Key_2):
        wait_shown(qtbot, panel)
        qtbot.keyClick(panel, key)
    wait_shown(qtbot, panel)
    assert len(votes_by_name(window)) == 2
    qtbot.waitUntil(lambda: training.ratings_table.rowCount() == 2, timeout=10000)
    assert training.meter.text().startswith("0 of ")  # one vote each: not yet enough for a fine-tune
    undo = next(b for b in panel.findChildren(QPushButton) if b.text() == "Undo last")
    qtbot.mouseClick(undo, Qt.LeftButton)  # the last answer taken back
    wait_shown(qtbot, panel)
    assert len(votes_by_name(window)) == 1
    qtbot.waitUntil(lambda: training.ratings_table.rowCount() == 1, timeout=10000)
    panel.close()
    training.close()
