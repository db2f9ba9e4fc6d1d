"""The photo a rater judges: fitted to the view and never enlarged (an enlarged photo is a blurred
one, and the rater would judge the blur), or at 100 %, one photo pixel per screen pixel, with
scroll bars and drag to pan. In the photo's place it can say why there is none (loading, cannot
be shown, signed out)."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy


class RatingPhotoView(QScrollArea):
    scale_said = Signal(str)  # "shown at 42 % (fitted)", or "" when no photo is shown

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.photo = QLabel(text, alignment=Qt.AlignCenter)
        self.photo.setWordWrap(True)
        self.photo.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)  # the view decides its size
        self.setAlignment(Qt.AlignCenter)
        self.setWidget(self.photo)
        self.setWidgetResizable(True)
        self.setMinimumSize(480, 360)
        self.viewport().installEventFilter(self)  # refit on resize; drag to pan at 100 %
        self._pixmap: QPixmap | None = None  # the photo at full size, refitted when the view resizes
        self._actual = False
        self._drag: QPoint | None = None

    def has_photo(self) -> bool:
        return self._pixmap is not None

    def say(self, text: str) -> None:
        """Words in the photo's place (the photo, if any, is let go)."""
        self._pixmap = None
        self.setWidgetResizable(True)
        self.photo.setText(text)
        self.scale_said.emit("")

    def show_photo(self, pixmap: QPixmap) -> None:
        self._pixmap = pixmap
        self.refit()

    def set_actual_size(self, on: bool) -> None:
        self._actual = on
        self.refit()

    def refit(self) -> None:
        """The photo fitted to the view (never enlarged), or at 100 % when asked."""
        if self._pixmap is None:
            return
        pixmap, ratio = self._pixmap, self.devicePixelRatioF()
        viewport = self.maximumViewportSize()  # without scroll bars: a fitted photo needs none
        if self._actual:
            shown, factor = QPixmap(pixmap), 1.0
            shown.setDevicePixelRatio(ratio)  # one photo pixel per device pixel
            self.setWidgetResizable(False)
            self.photo.setPixmap(shown)
            self.photo.resize(round(pixmap.width() / ratio), round(pixmap.height() / ratio))  # centred if smaller
            for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
                bar.setValue((bar.maximum() + bar.minimum()) // 2)  # the middle of the photo first
        else:
            factor = min(1.0, viewport.width() * ratio / pixmap.width(), viewport.height() * ratio / pixmap.height())
            shown = pixmap if factor >= 1.0 else pixmap.scaled(
                max(1, round(pixmap.width() * factor)), max(1, round(pixmap.height() * factor)),
                Qt.KeepAspectRatio, Qt.SmoothTransformation)
            shown.setDevicePixelRatio(ratio)
            self.setWidgetResizable(True)
            self.photo.setPixmap(shown)
        self.scale_said.emit(f"shown at {factor * 100:.0f} %" + ("" if self._actual else " (fitted)"))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.viewport():
            kind = event.type()
            if kind == QEvent.Resize and not self._actual:
                self.refit()
            elif kind == QEvent.MouseButtonPress and self._actual:
                self._drag = event.position().toPoint()
            elif kind == QEvent.MouseMove and self._drag is not None:
                here = event.position().toPoint()
                delta, self._drag = here - self._drag, here
                self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
                self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            elif kind == QEvent.MouseButtonRelease:
                self._drag = None
        return super().eventFilter(watched, event)
