"""Compare two photos side by side (C), zoomed and panned as one, and the loupe (L): what an
inspector does at the real window, with real files on disk."""
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui.test_gallery_user_actions import click
from tests.gui.test_user_actions import action_for, choose_folder_with_ctrl_o

pytestmark = pytest.mark.gui


def pixels(pixmap) -> np.ndarray:
    """A pixmap's pixels as an RGB array."""
    image = pixmap.toImage().convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def write_large_photo(path, height=4000, width=6000) -> None:
    """A 24 MP photo with structure (gradients, a grid, a little noise): JPEG-friendly, fast to write."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, ((x // 250 + y // 250) % 2) * 200], axis=-1)
    rgb = (rgb + rng.integers(0, 12, (height, width, 1))).clip(0, 255).astype(np.uint8)
    Image.fromarray(rgb).save(path, quality=85)


def opened(qtbot, window, monkeypatch, folder, count: int) -> None:
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == count and not window.is_busy(), timeout=60000)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("name")


def both_shown(window) -> bool:
    return all(p.error is None and not p.view.item.pixmap().isNull() for p in window.compare.view.panes)


def centres(window) -> list[QPointF]:
    return [p.view.relative_centre() for p in window.compare.view.panes]


def assert_aligned(window, tolerance=0.01) -> None:
    first, second = centres(window)
    assert abs(first.x() - second.x()) < tolerance and abs(first.y() - second.y()) < tolerance, (first, second)


def wheel(view, up: bool) -> None:
    at = QPointF(view.viewport().rect().center())
    event = QWheelEvent(at, QPointF(view.viewport().mapToGlobal(at.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 if up else -120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other(
        qtbot, window, tmp_path, make_photos, monkeypatch):
    folder = tmp_path / "pair"
    folder.mkdir()
    write_large_photo(folder / "a_large.jpg")
    make_photos(folder, 1, size=(1000, 1500), name=["b_small.png"])
    opened(qtbot, window, monkeypatch, folder, 2)
    action_for(window, "Ctrl+A").trigger()  # both selected
    action_for(window, "C").trigger()
    compare = window.compare
    assert compare.is_open and window.viewer.isHidden()
    qtbot.waitUntil(lambda: both_shown(window), timeout=30000)
    large, small = compare.view.panes
    for pane, name in ((large, "a_large.jpg"), (small, "b_small.png")):
        item = window.model.item(pane.path)
        assert pane.path.endswith(name)
        assert name in pane.caption.text() and f"{item.score:.1f}" in pane.caption.text()
        assert item.verdict_in_force.upper() in pane.caption.text()
    # The 24 MP photo is drawn from a screen-sized preview at fit, in the photo's own coordinates.
    assert not large.view.shows_full_resolution and large.view.item.pixmap().width() <= 2560
    assert large.view.sceneRect().width() == 6000 and large.view.zoom < 0.2

    action_for(window, "+").trigger()
    before = [p.view.zoom for p in compare.view.panes]
    action_for(window, "+").trigger()  # zooms the left pane; the right one follows by the same step
    assert large.view.zoom == pytest.approx(before[0] * 1.25, rel=1e-3)
    assert small.view.zoom == pytest.approx(before[1] * 1.25, rel=1e-3)
    action_for(window, "Ctrl+1").trigger()  # 100 %: both at native pixels, aligned by relative position
    assert large.view.zoom == small.view.zoom == 1.0
    assert large.view.shows_full_resolution  # past the preview's resolution the photo itself is drawn
    # Pan the left one (within what the smaller photo can follow: neither scrolls past its edge).
    large.view.horizontalScrollBar().setValue(large.view.horizontalScrollBar().maximum() * 2 // 5)
    large.view.verticalScrollBar().setValue(large.view.verticalScrollBar().maximum() * 3 // 5)
    assert 0.38 < centres(window)[0].x() < 0.45 and 0.55 < centres(window)[0].y() < 0.62
    assert_aligned(window)
    wheel(small.view, up=False)  # the wheel over the right pane: the left one zooms out too
    assert small.view.zoom == pytest.approx(0.8) and large.view.zoom == pytest.approx(0.8)
    assert_aligned(window)
    action_for(window, "Ctrl+0").trigger()
    assert large.view.fitted and small.view.fitted
    assert large.view.visible_photo_rect().width() == pytest.approx(6000, abs=2)

    action_for(window, "Esc").trigger()  # back to the single viewer
    assert not compare.is_open and window.viewer.isVisible()
    action_for(window, "C").trigger()
    assert compare.is_open
    action_for(window, "C").trigger()  # C again goes back too
    assert not compare.is_open and not action_for(window, "C").isChecked()


def test_a_broken_or_cut_off_file_in_the_pair_says_why_in_its_pane_and_the_other_still_shows(
        qtbot, window, tmp_path, make_photos, monkeypatch):
    folder = tmp_path / "faults"
    good = make_photos(folder, 1, size=(600, 800), name=["a_good.png"])[0]
    make_photos(folder, 1, size=(600, 800), name=["c_cut.jpg"], seed=3)
    whole = (folder / "c_cut.jpg").read_bytes()
    (folder / "c_cut.jpg").write_bytes(whole[:len(whole) // 2])  # cut off half-way
    (folder / "b_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    opened(qtbot, window, monkeypatch, folder, 3)
    click(qtbot, window, "a_good.png")
    click(qtbot, window, "b_broken.jpg", Qt.ControlModifier)
    action_for(window, "C").trigger()
    photo, broken = window.compare.view.panes
    qtbot.waitUntil(lambda: broken.error is not None and "Reading" not in broken.error, timeout=20000)
    qtbot.waitUntil(lambda: photo.error is None, timeout=20000)
    item = window.model.item(broken.path)  # its status and error, as the batch stored them
    assert "b_broken.jpg cannot be shown" in broken.error and item.error in broken.error
    assert item.status.upper() in broken.caption.text()
    assert photo.path == str(good) and not photo.view.item.pixmap().isNull()
    action_for(window, "+").trigger()  # zooming with one pane empty harms nothing
    assert photo.view.zoom > 0

    action_for(window, "Esc").trigger()
    click(qtbot, window, "a_good.png")
    click(qtbot, window, "c_cut.jpg", Qt.ControlModifier)
    action_for(window, "C").trigger()
    cut = window.compare.view.panes[1]
    qtbot.waitUntil(lambda: cut.error is None and not cut.view.item.pixmap().isNull(), timeout=20000)
    assert "Only part of it decodes" in cut.caption.text() and "ends early" in cut.caption.text()


def test_c_on_one_photo_shows_it_beside_its_map(qtbot, window, tmp_path, make_photos, monkeypatch):
    from app.ui.viewer import DISTORTION, IN_SCORE

    folder = tmp_path / "one"
    make_photos(folder, 1, size=(480, 640), name=["solo.png"])
    opened(qtbot, window, monkeypatch, folder, 1)
    click(qtbot, window, "solo.png")
    qtbot.waitUntil(lambda: window.viewer.outcome is not None and window.viewer.native is not None, timeout=30000)
    action_for(window, "C").trigger()
    photo, damage = window.compare.view.panes
    qtbot.waitUntil(lambda: both_shown(window), timeout=20000)
    assert damage.caption.text().startswith(f"{IN_SCORE}: solo.png")  # no overlay chosen in the viewer
    assert not np.array_equal(pixels(photo.view.item.pixmap()), pixels(damage.view.item.pixmap()))
    assert np.array_equal(pixels(photo.view.item.pixmap()), np.asarray(Image.open(folder / "solo.png")))
    action_for(window, "Esc").trigger()
    window.viewer.overlay_box.setCurrentText(DISTORTION)  # the viewer's overlay is the one compared
    action_for(window, "C").trigger()
    qtbot.waitUntil(lambda: both_shown(window), timeout=20000)
    assert damage.caption.text().startswith(f"{DISTORTION}: solo.png")


def test_c_with_nothing_selected_says_what_to_select(qtbot, window):
    action_for(window, "C").trigger()
    assert not window.compare.is_open and not action_for(window, "C").isChecked()
    assert "select two photos" in window.statusBar().currentMessage()


def move_mouse(view, pos: QPoint) -> None:
    event = QMouseEvent(QEvent.MouseMove, QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)),
                        Qt.NoButton, Qt.NoButton, Qt.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def test_l_shows_the_photos_own_pixels_under_the_cursor_while_the_viewer_fits_the_photo(
        qtbot, window, tmp_path, make_photos, monkeypatch):
    from app.ui.loupe import OUTSIDE

    folder = tmp_path / "loupe"
    path = make_photos(folder, 1, size=(1600, 2400), name=["noisy.png"])[0]  # noise: any resampling shows
    opened(qtbot, window, monkeypatch, folder, 1)
    click(qtbot, window, "noisy.png")
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=30000)
    view, loupe = window.viewer.view, window.loupe
    assert view.fitted and view.zoom < 0.5  # the whole photo in view, far below 100 %
    action_for(window, "L").trigger()
    assert action_for(window, "L").isChecked()
    file = np.asarray(Image.open(path))
    corner = view.mapFromScene(QPointF(12, 20))  # near the photo's top left: part of the loupe is beyond it
    for cursor in (view.viewport().rect().center() + QPoint(37, -21), corner):
        move_mouse(view, cursor)
        assert loupe.label.isVisible()
        x, y = loupe.at
        scene = view.mapToScene(cursor)
        assert (x, y) == (int(scene.x()), int(scene.y()))  # the photo pixel under the cursor
        shown = pixels(loupe.label.pixmap())
        assert shown.shape == (200, 200, 3)
        beyond = np.pad(file, ((100, 100), (100, 100), (0, 0)), constant_values=OUTSIDE)  # grey past the edge
        assert np.array_equal(shown, beyond[y:y + 200, x:x + 200])  # the file's own pixels, 1:1, centred
    assert loupe.label.geometry().contains(cursor)  # under the cursor, kept inside the viewer
    action_for(window, "L").trigger()  # off
    assert not loupe.label.isVisible()
    move_mouse(view, view.viewport().rect().center())
    assert not loupe.label.isVisible()


def test_minus_zooms_out_the_single_viewer_and_ctrl_0_fits_it_again(qtbot, window, tmp_path, make_photos, monkeypatch):
    folder = tmp_path / "zoom"
    make_photos(folder, 1, size=(1600, 2400), name=["big.png"])
    opened(qtbot, window, monkeypatch, folder, 1)
    click(qtbot, window, "big.png")  # the gallery has the focus: the keys still reach the viewer
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=30000)
    view = window.viewer.view
    fitted = view.zoom
    action_for(window, "Ctrl+1").trigger()
    assert view.zoom == 1.0 and window.viewer.zoom_label.text() == "100%"
    action_for(window, "-").trigger()
    assert view.zoom == pytest.approx(0.8) and not view.fitted
    action_for(window, "Ctrl+0").trigger()
    assert view.fitted and view.zoom == pytest.approx(fitted)
