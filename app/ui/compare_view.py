"""The compare view: two photos side by side (or a photo beside its map), zoomed and panned as
one. Widgets only: what each pane shows is decoded elsewhere (app.ui.compare_controller) and
handed over as images."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStackedLayout, QVBoxLayout, QWidget

from .zoom_link import ZoomLink
from .zoom_view import ZoomView


class ComparePane(QWidget):
    """One side: the photo, or why it cannot show; its caption (file, score, verdict or
    disposition) is laid out by CompareView, in one row with the other's, so that a caption
    wrapping to two lines cannot shift one photo below the other."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignLeft | Qt.AlignBottom)
        self.caption.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.view = ZoomView()
        self.message = QLabel("")  # "Reading p1.jpg…", or the error of a photo that does not decode
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self._stack = QStackedLayout()
        self._stack.addWidget(self.view)
        self._stack.addWidget(self.message)
        self._stack.setContentsMargins(0, 0, 0, 0)
        self.setLayout(self._stack)
        self.path: str | None = None  # the photo this pane is for

    def show_reading(self, path: str, caption: str) -> None:
        self.path = path
        self.caption.setText(caption)
        self.view.set_pixmap(QPixmap(), fit=True)
        self.message.setText("Reading the photo…")
        self._stack.setCurrentWidget(self.message)

    def show_photo(self, preview: QImage, full: QImage, note: str = "") -> None:
        """The photo (``preview`` at fit, ``full`` from where the preview would be enlarged);
        ``note``: said under the caption (e.g. only part of a damaged photo decodes)."""
        self.view.set_preview(QPixmap.fromImage(preview), full, fit=True)
        self._stack.setCurrentWidget(self.view)
        if note:
            self.caption.setText(f"{self.caption.text()}\n{note}")

    def show_error(self, message: str) -> None:
        self.view.set_pixmap(QPixmap(), fit=True)
        self.message.setText(message)
        self._stack.setCurrentWidget(self.message)

    @property
    def error(self) -> str | None:
        """What the pane says instead of a photo (None while it shows one)."""
        return self.message.text() if self._stack.currentWidget() is self.message else None


class CompareView(QWidget):
    closed = Signal()  # the person asked for the single viewer again

    def __init__(self, parent=None):
        super().__init__(parent)
        self.panes = (ComparePane(), ComparePane())
        self.link = ZoomLink(self.panes[0].view, self.panes[1].view, self)
        self.title = QLabel("")  # what the panes show; wrapped in the room beside the buttons, never
        self.title.setWordWrap(True)  # widening the window (the viewer's place must fit 1280 px)
        self.title.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.zoom_label = QLabel("")
        fit, actual, back = QPushButton("Fit"), QPushButton("1:1"), QPushButton("Back (Esc)")
        back.setToolTip("Back to the single viewer (Esc, or C again)")
        fit.clicked.connect(lambda: self.active().view.fit())
        actual.clicked.connect(lambda: self.active().view.actual_size())
        back.clicked.connect(self.closed)
        for pane in self.panes:
            pane.view.zoomed.connect(self._show_zoom)
        bar = QHBoxLayout()
        bar.addWidget(self.title, 1)
        for w in (fit, actual, self.zoom_label, back):
            bar.addWidget(w)
        sides = QGridLayout()
        sides.setHorizontalSpacing(6)
        for column, pane in enumerate(self.panes):
            sides.addWidget(pane.caption, 0, column)
            sides.addWidget(pane, 1, column)
            sides.setColumnStretch(column, 1)
        sides.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(sides, 1)

    def active(self) -> ComparePane:
        """The pane a zoom key acts on (the other follows): the one under the mouse or with the
        focus, else the left one."""
        for pane in self.panes:
            if pane.view.underMouse() or pane.view.hasFocus():
                return pane
        return self.panes[0]

    def _show_zoom(self, _zoom: float) -> None:
        self.zoom_label.setText(" | ".join(f"{p.view.zoom:.0%}" for p in self.panes))  # left | right
