"""The loupe (View → Loupe, L): a square of the photo's own pixels, at 100 %, under the mouse
cursor over the viewer, so blur and noise can be judged while the photo stays at fit.

Its pixels are cut from the decoded photo the viewer already holds (the outcome's RGB array, the
photo at its decoded size, without the overlay), never from what is drawn, which at fit is the
photo scaled down. Cutting 200 x 200 pixels costs microseconds: nothing is read from disk."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QCursor, QPixmap
from PySide6.QtWidgets import QFrame, QLabel

from .images import to_qimage

LOUPE_SIDE = 200  # screen pixels, and so photo pixels at 100 %
OUTSIDE = 96  # the grey of the loupe's part beyond the photo's edge


def native_square(rgb: np.ndarray, x: int, y: int, side: int = LOUPE_SIDE) -> np.ndarray:
    """``side`` x ``side`` pixels of ``rgb`` centred on pixel (x, y); beyond the photo's edge,
    grey, so the pixel under the cursor always stays at the square's centre."""
    out = np.full((side, side, 3), OUTSIDE, np.uint8)
    top, left = y - side // 2, x - side // 2
    height, width = rgb.shape[:2]
    y0, y1, x0, x1 = max(top, 0), min(top + side, height), max(left, 0), min(left + side, width)
    if y0 < y1 and x0 < x1:
        out[y0 - top:y1 - top, x0 - left:x1 - left] = rgb[y0:y1, x0:x1]
    return out


class Loupe(QObject):
    def __init__(self, viewer, parent=None):
        super().__init__(parent)
        self.viewer = viewer
        viewport = viewer.view.viewport()
        self.label = QLabel(viewport)
        self.label.setFrameStyle(QFrame.Box | QFrame.Plain)
        self.label.setLineWidth(2)
        self.label.setStyleSheet("QLabel { color: white; background: rgb(96, 96, 96); }")
        self.label.setFixedSize(LOUPE_SIDE + 4, LOUPE_SIDE + 4)
        self.label.setAttribute(Qt.WA_TransparentForMouseEvents)  # the view under it keeps the mouse
        self.label.hide()
        self.on = False
        self.at: tuple[int, int] | None = None  # the photo pixel at the loupe's centre
        viewport.installEventFilter(self)
        viewer.view.zoomed.connect(lambda _zoom: self.on and self._at_cursor())  # zoomed, or another photo

    def set_on(self, on: bool) -> None:
        self.on = on
        if on:
            self._at_cursor()
        else:
            self.hide()

    def _at_cursor(self) -> None:
        self.hide()
        viewport = self.viewer.view.viewport()
        cursor = viewport.mapFromGlobal(QCursor.pos())
        if viewport.rect().contains(cursor):  # shown at once where the mouse already is
            self.show_at(cursor)

    def hide(self) -> None:
        self.label.hide()
        self.at = None

    def eventFilter(self, watched, event) -> bool:
        if self.on:
            if event.type() == QEvent.MouseMove:
                self.show_at(event.position().toPoint())
            elif event.type() == QEvent.Leave:
                self.hide()
        return False  # the view still pans and zooms

    def show_at(self, pos: QPoint) -> None:
        """The loupe centred on ``pos`` (viewport pixels), showing the photo pixel under it."""
        outcome = self.viewer.outcome
        rgb = outcome.rgb if outcome is not None else None
        if rgb is None:
            self.hide()
            return
        point = self.viewer.view.mapToScene(pos)
        x, y = int(np.floor(point.x())), int(np.floor(point.y()))
        height, width = rgb.shape[:2]
        if not (0 <= x < width and 0 <= y < height):
            self.hide()
            return
        self.at = (x, y)
        self.label.setPixmap(QPixmap.fromImage(to_qimage(native_square(rgb, x, y))))
        viewport = self.label.parentWidget()
        half = self.label.width() // 2
        left = min(max(pos.x() - half, 0), max(viewport.width() - self.label.width(), 0))
        top = min(max(pos.y() - half, 0), max(viewport.height() - self.label.height(), 0))
        self.label.move(left, top)
        self.label.show()
        self.label.raise_()
