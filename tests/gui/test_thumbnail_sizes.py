"""At the largest thumbnail size (View → Larger thumbnails) the gallery shows thumbnails drawn at
that size, not 128-px ones blown up; a catalogue stored before (128-px rows) gets them drawn
again from the files once the larger size is asked for. On the real window, real files."""
import sqlite3

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from app.core.imageio.thumbnail import MAX_THUMB_BYTES, thumbnail_jpeg, thumbnail_side
from app.ui.gallery import THUMB_MAX
from tests.gui.conftest import relaunched, settled
from tests.gui.test_report_user_actions import scored_folder
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def fine_detail_folder(tmp_path, n: int = 3):
    """Photos of 4-px squares of random colour: at 256 px each square is a pixel of its own,
    at 128 px two squares blur into one."""
    folder = tmp_path / "detail"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(n):
        squares = rng.integers(0, 256, (192, 256, 3), dtype=np.uint8)
        Image.fromarray(np.kron(squares, np.ones((4, 4, 1), np.uint8))).save(folder / f"d{i}.png")
    return folder


def shown_thumbnail(window, path: str) -> QImage:
    item = window.model.item(path)
    icon = window.model.icon(item)
    return icon.pixmap(icon.availableSizes()[0]).toImage()


def lost_in_an_upscale(image: QImage) -> float:
    """How far the image is from itself halved and doubled again: near 0 for a 128-px image
    shown at 256, large for one with 256 px of detail."""
    image = image.convertToFormat(QImage.Format_RGB888)
    w, h = image.width(), image.height()
    again = image.scaled(w // 2, h // 2).scaled(w, h).convertToFormat(QImage.Format_RGB888)

    def pixels(im):
        return np.frombuffer(im.constBits(), np.uint8, im.sizeInBytes()).reshape(h, im.bytesPerLine())[:, : w * 3]

    return float(np.abs(pixels(image).astype(int) - pixels(again).astype(int)).mean())


def to_the_largest_size(qtbot, window) -> None:
    while window.gallery_controls.size.value() < THUMB_MAX:
        action_for(window, "Ctrl++").trigger()
    assert window.gallery.iconSize().width() == THUMB_MAX


def test_at_the_largest_size_a_thumbnail_has_the_detail_of_its_size_not_an_upscale(qtbot, window, tmp_path,
                                                                                    monkeypatch):
    folder = fine_detail_folder(tmp_path)
    scored_folder(qtbot, window, monkeypatch, folder, n=3)
    to_the_largest_size(qtbot, window)
    settled(qtbot, window)
    for it in window.model.items:
        image = shown_thumbnail(window, it.path)
        assert image.width() == THUMB_MAX
        assert lost_in_an_upscale(image) > 20, it.path
        assert len(it.thumb) <= MAX_THUMB_BYTES
    # Smaller cells show the same stored thumbnail, decoded at their size.
    window.gallery_controls.size.setValue(128)
    assert shown_thumbnail(window, window.model.items[0].path).width() == 128


def test_a_catalogue_stored_with_128_px_thumbnails_draws_them_again_when_the_largest_size_is_asked(
        qtbot, window, tmp_path, monkeypatch, exported_student):

    folder = fine_detail_folder(tmp_path)
    scored_folder(qtbot, window, monkeypatch, folder, n=3)
    window.close()
    # As the earlier version stored them: 128 px.
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        for (image_id, path) in c.execute("select id, path from images").fetchall():
            old = thumbnail_jpeg(np.asarray(Image.open(path).convert("RGB")), side=128)
            c.execute("update thumbnails set jpeg = ? where image_id = ?", (old, image_id))
    again = relaunched(qtbot, exported_student[1], tmp_path)
    qtbot.waitUntil(lambda: len(again.model.items) == 3 and not again.is_busy(), timeout=30000)
    settled(qtbot, again)
    assert {thumbnail_side(it.thumb) for it in again.model.items} == {128}  # reused, not redrawn at opening

    to_the_largest_size(qtbot, again)
    qtbot.waitUntil(lambda: not again.thumbnails.busy(), timeout=30000)
    for it in again.model.items:
        image = shown_thumbnail(again, it.path)
        assert image.width() == THUMB_MAX and lost_in_an_upscale(image) > 20, it.path
    with sqlite3.connect(tmp_path / "inspector.db") as c:  # kept: the next launch has them
        assert {thumbnail_side(j) for (j,) in c.execute("select jpeg from thumbnails")} == {THUMB_MAX}
    again.close()


def test_a_thumbnail_of_a_busy_photo_stays_within_its_byte_bound():
    noise = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    jpeg = thumbnail_jpeg(noise)
    assert thumbnail_side(jpeg) == 256 and len(jpeg) <= MAX_THUMB_BYTES
