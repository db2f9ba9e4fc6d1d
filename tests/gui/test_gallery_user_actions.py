"""The gallery at a line inspector's pace: many photos decided at once (Shift / Ctrl-click,
Ctrl+A over what the filters show), undone whole with one Ctrl+Z; a file-name search and a
score range combined with Show; thumbnails sized from the View menu; the gallery flowing into
more columns as the window grows; all of it remembered across a relaunch."""
import sqlite3

import pytest
from PySide6.QtCore import QSettings, Qt

from app.ui.gallery import PathRole
from tests.gui.conftest import settled
from tests.gui.test_user_actions import action_for, answer_reason, choose_folder_with_ctrl_o

pytestmark = pytest.mark.gui

# The shortcuts these tests press (test_user_actions' EXERCISED check reads it).
EXERCISED = {
    "Ctrl+A": "test_ctrl_a_selects_only_what_the_filters_show_and_m_marks_all_of_them_reviewed",
    "Ctrl++": "test_thumbnail_size_search_and_score_range_narrow_the_gallery_and_survive_a_relaunch",
    "Ctrl+-": "test_the_gallery_flows_into_more_columns_as_the_window_grows_or_thumbnails_shrink",
}


# Scores spread over the scale, as a calibration would give them (the untrained test model scores
# every photo within a tenth of a point): p0.png 95, p1.png 80, ... p5.png 20.
SPREAD = {f"p{i}.png": 95.0 - 15 * i for i in range(6)}


def opened(qtbot, window, monkeypatch, folder, width=1200, height=800) -> None:
    """The window shown (clicks need cells laid out), the folder read and sorted by name, its
    scores spread (SPREAD)."""
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("name")
    window.descending.setChecked(False)
    window.scores_changed({str(folder / name): score for name, score in SPREAD.items()})
    settled(qtbot, window)


def row_of(window, name: str) -> int:
    return next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(PathRole).endswith(name))


def click(qtbot, window, name: str, modifier=Qt.NoModifier) -> None:
    rect = window.gallery.visualRect(window.proxy.index(row_of(window, name), 0))
    qtbot.mouseClick(window.gallery.viewport(), Qt.LeftButton, modifier, rect.center())


def shown(window) -> list[str]:
    return [window.proxy.index(r, 0).data(PathRole).rsplit("/", 1)[1] for r in range(window.proxy.rowCount())]


def decisions(tmp_path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        rows = c.execute("select images.path, decision from reviews join images on images.id = image_id"
                         " order by reviews.id")
        return [(p.rsplit("/", 1)[1], d) for p, d in rows]


def columns(window) -> int:
    return len({window.gallery.visualRect(window.proxy.index(r, 0)).x() for r in range(window.proxy.rowCount())})


def test_shift_and_ctrl_click_then_x_rejects_the_selection_with_one_reason_and_ctrl_z_undoes_it_whole(
        qtbot, window, photo_folder, tmp_path, monkeypatch):
    opened(qtbot, window, monkeypatch, photo_folder)
    assert shown(window) == ["broken.jpg", "p0.png", "p1.png", "p2.png", "p3.png", "p4.png", "p5.png"]
    click(qtbot, window, "broken.jpg")
    click(qtbot, window, "p2.png", Qt.ShiftModifier)  # broken.jpg to p2.png
    click(qtbot, window, "p4.png", Qt.ControlModifier)  # and one more
    assert sorted(p.rsplit("/", 1)[1] for p in window.gallery.selected_paths()) == \
        ["broken.jpg", "p0.png", "p1.png", "p2.png", "p4.png"]
    assert window.statusBar().currentMessage().startswith("5 photos selected")
    asked = answer_reason(monkeypatch, ("blur", "whole tray out of focus"))
    action_for(window, "X").trigger()
    settled(qtbot, window)
    assert [d for d, _ in asked] == ["rejected"]  # one question for the whole selection
    decided = ["p0.png", "p1.png", "p2.png", "p4.png"]
    for name in decided:
        review = window.model.item(str(photo_folder / name)).review
        assert (review.decision, review.reason_code, review.reason) == ("rejected", "blur", "whole tray out of focus")
        assert "✗ blur" in window.proxy.index(row_of(window, name), 0).data(Qt.DisplayRole)
    assert window.model.item(str(photo_folder / "p3.png")).review is None
    assert window.statusBar().currentMessage() == \
        "Rejected 4 photos (blur: whole tray out of focus); 1 not scored, left as they are"
    assert sorted(decisions(tmp_path)) == sorted((n, "rejected") for n in decided)

    action_for(window, "Ctrl+Z").trigger()  # one step: the whole batch
    settled(qtbot, window)
    assert all(window.model.item(str(photo_folder / n)).review is None for n in decided)
    assert window.statusBar().currentMessage() == "Undone: the decision on 4 photos"
    action_for(window, "Ctrl+Shift+Z").trigger()
    settled(qtbot, window)
    assert all(window.model.item(str(photo_folder / n)).decision == "rejected" for n in decided)
    # Append-only: the batch, its undo and its redo are each on record, four rows at a time.
    assert [d for _, d in decisions(tmp_path)] == ["rejected"] * 4 + ["cleared"] * 4 + ["rejected"] * 4


def test_undoing_a_batch_puts_back_each_photos_own_earlier_decision(qtbot, window, photo_folder, tmp_path,
                                                                   monkeypatch):
    opened(qtbot, window, monkeypatch, photo_folder)
    answer_reason(monkeypatch, ("exposure", ""), ("other", "customer sample"))
    click(qtbot, window, "p1.png")
    action_for(window, "X").trigger()  # one photo first, on its own
    settled(qtbot, window)
    click(qtbot, window, "p0.png")
    click(qtbot, window, "p2.png", Qt.ShiftModifier)
    action_for(window, "A").trigger()
    settled(qtbot, window)
    assert {window.model.item(str(photo_folder / n)).decision for n in ("p0.png", "p1.png", "p2.png")} == {"accepted"}
    action_for(window, "Ctrl+Z").trigger()
    settled(qtbot, window)
    p1 = window.model.item(str(photo_folder / "p1.png")).review
    assert (p1.decision, p1.reason_code) == ("rejected", "exposure")  # its own decision, not none
    assert window.model.item(str(photo_folder / "p0.png")).review is None
    assert window.model.item(str(photo_folder / "p2.png")).review is None


def test_ctrl_a_selects_only_what_the_filters_show_and_m_marks_all_of_them_reviewed(qtbot, window, photo_folder,
                                                                                   tmp_path, monkeypatch):
    opened(qtbot, window, monkeypatch, photo_folder)
    window.gallery_controls.search.setText(".PNG")  # any case
    qtbot.keyClick(window.gallery_controls.search, Qt.Key_Return)  # Enter: at once
    assert len(shown(window)) == 6 and "broken.jpg" not in shown(window)
    window.gallery_controls.low.setValue(50)
    in_range = shown(window)
    assert in_range == ["p0.png", "p1.png", "p2.png", "p3.png"]  # 95, 80, 65 and 50: the ends are in the range
    action_for(window, "Ctrl+A").trigger()
    assert sorted(p.rsplit("/", 1)[1] for p in window.gallery.selected_paths()) == in_range
    action_for(window, "M").trigger()  # no reason asked for "reviewed" (the conftest fails any question)
    settled(qtbot, window)
    assert sorted(n for n, d in decisions(tmp_path)) == in_range
    assert {d for _, d in decisions(tmp_path)} == {"reviewed"}
    assert window.statusBar().currentMessage() == f"Reviewed {len(in_range)} photos"


def test_typing_in_the_search_filters_live_and_its_letters_are_not_shortcuts(qtbot, window, photo_folder,
                                                                            monkeypatch):
    from PySide6.QtGui import QAction

    opened(qtbot, window, monkeypatch, photo_folder)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5000)
    triggered = []
    for action in window.findChildren(QAction):
        action.triggered.connect(lambda _=False, a=action: triggered.append(a.text()))
    search = window.gallery_controls.search
    search.setFocus()
    qtbot.keyClicks(search, "P3.pn")  # N (next unreviewed), typed as text
    qtbot.waitUntil(lambda: shown(window) == ["p3.png"], timeout=5000)
    qtbot.keyClick(search, Qt.Key_A, Qt.ControlModifier)  # selects the text, not every photo
    assert search.text() == "P3.pn" and search.selectedText() == "P3.pn"
    assert triggered == []
    search.clear()
    qtbot.waitUntil(lambda: len(shown(window)) == 7, timeout=5000)
    # The same keys with the gallery in focus are the window's shortcuts.
    window.gallery.setFocus()
    qtbot.keyClick(window.gallery, Qt.Key_A, Qt.ControlModifier)
    assert len(window.gallery.selected_paths()) == 7
    qtbot.keyClick(window.gallery, Qt.Key_N)
    assert len(triggered) == 2
    # Moving on to the next photo leaves it alone selected: an X now is on it, not on all seven.
    assert window.gallery.selected_paths() == [window.navigation.current_path()]


def test_thumbnail_size_search_and_score_range_narrow_the_gallery_and_survive_a_relaunch(
        qtbot, window, photo_folder, tmp_path, exported_student, monkeypatch):
    from app.ui.main_window import MainWindow

    opened(qtbot, window, monkeypatch, photo_folder)
    before = window.gallery.visualRect(window.proxy.index(0, 0)).size()
    action_for(window, "Ctrl++").trigger()
    qtbot.wait(50)
    assert window.gallery.iconSize().width() == 160 and window.gallery_controls.size.value() == 160
    after = window.gallery.visualRect(window.proxy.index(0, 0)).size()
    assert after.width() > before.width() and after.height() > before.height()
    window.gallery_controls.search.setText("p")
    window.gallery_controls.high.setValue(79)
    qtbot.waitUntil(lambda: window.proxy.search == "p", timeout=5000)
    expected = ["p2.png", "p3.png", "p4.png", "p5.png"]  # 65 to 20: 95, 80 and the unscored file drop out
    assert shown(window) == expected
    window.filter_box.setCurrentText("errors")  # Show and the range together: no error has a score
    assert shown(window) == []
    window.filter_box.setCurrentText("all")
    window.close()

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    again = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=30000)
    controls = again.gallery_controls
    assert (controls.search.text(), controls.low.value(), controls.high.value(), controls.size.value()) == \
        ("p", 0, 79, 160)
    assert again.gallery.iconSize().width() == 160
    # Applied, not only shown in the boxes: the stored scores (all near 49) are in the range, the
    # unscored file is not.
    assert shown(again) == [f"p{i}.png" for i in range(6)]
    again.close()


def test_the_gallery_flows_into_more_columns_as_the_window_grows_or_thumbnails_shrink(qtbot, window, photo_folder,
                                                                                       monkeypatch):
    opened(qtbot, window, monkeypatch, photo_folder, width=1000, height=800)
    qtbot.wait(100)
    narrow = columns(window)
    # The columns share the row's room: at most a few pixels are left at its right (two cells of
    # 156 px in a 338-px pane left 26; at 1480 px wide, 90), besides a scroll bar still to come.
    gallery = window.gallery
    bar = gallery.verticalScrollBar()
    to_come = 0 if bar.isVisible() else bar.sizeHint().width()
    assert gallery.viewport().width() - narrow * gallery.gridSize().width() <= 4 + to_come
    window.resize(1900, 800)
    qtbot.waitUntil(lambda: columns(window) > narrow, timeout=5000)
    wide = columns(window)
    action_for(window, "Ctrl+-").trigger()
    qtbot.waitUntil(lambda: columns(window) > wide or columns(window) == window.proxy.rowCount(), timeout=5000)
    assert window.gallery.iconSize().width() == 96
    # Every cell keeps a whole thumbnail, score line and name at the smaller size.
    assert min(window.gallery.visualRect(window.proxy.index(r, 0)).height() for r in range(7)) >= 96 + 30
