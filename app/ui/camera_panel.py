"""The camera batch's controls above its gallery: which camera, Find cameras, Start / Stop, the
live preview, Capture (Space) and an optional clock. A widget only: it asks (signals) and shows
what it is told; the camera's work is app.ui.camera_batch's."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStyle,
    QStyleOptionFrame,
    QVBoxLayout,
    QWidget,
)

PREVIEW_HEIGHT = 200  # px: the picture, with the gallery's two rows of thumbnails still below at 1280x800
_LISTED = re.compile(r"^(\d+)\s+\(")  # "0  (640×480)": a found device as the list shows it


DEVICE_TIP = "A device number (0 is the first camera), a stream URL, or a video file standing in"


class MiddleElidedLineEdit(QLineEdit):
    """The device field: a long video path or URL is drawn elided in the middle (its start and
    the file's name both show) unless the field is being typed in; the whole text is in the
    tooltip. Drawn only: the text itself stays whole."""

    def shown_text(self) -> str:
        text, metrics, room = self.text(), self.fontMetrics(), self._room().width()
        if self.hasFocus() or metrics.horizontalAdvance(text) <= room:
            return text
        # The file's name whole where it fits, its folders elided in the middle; else its end.
        cut = max(text.rfind("/"), text.rfind("\\"))
        left = room - metrics.horizontalAdvance(text[cut:])
        if cut > 0 and left > metrics.horizontalAdvance("/…/"):
            return metrics.elidedText(text[:cut], Qt.ElideMiddle, left) + text[cut:]
        return metrics.elidedText(text, Qt.ElideLeft, room)

    def _room(self):
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        return self.style().subElementRect(QStyle.SE_LineEditContents, option, self).adjusted(2, 0, -2, 0)

    def paintEvent(self, event) -> None:
        shown = self.shown_text()
        if shown == self.text() or not self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        self.style().drawPrimitive(QStyle.PE_PanelLineEdit, option, painter, self)
        group = QPalette.Active if self.isEnabled() else QPalette.Disabled
        painter.setPen(self.palette().color(group, QPalette.Text))
        painter.drawText(self._room(), Qt.AlignLeft | Qt.AlignVCenter | Qt.TextSingleLine, shown)


class CameraPanel(QWidget):
    start_requested = Signal(str, int)  # camera (device number, URL or file), capture every N ms (0: key only)
    stop_requested = Signal()
    capture_requested = Signal()
    find_requested = Signal()

    def __init__(self, camera: str = "0", parent: QWidget | None = None):
        super().__init__(parent)
        self.device = QComboBox()
        self.device.setEditable(True)  # a stream URL or a video file is typed in
        self.device.setLineEdit(MiddleElidedLineEdit())
        self.device.lineEdit().textChanged.connect(self._tell_whole)
        self.device.setInsertPolicy(QComboBox.NoInsert)
        self.device.lineEdit().setPlaceholderText("device number, stream URL or video file")
        self.device.setEditText(camera)
        self.device.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.device.setToolTip(DEVICE_TIP)
        self.find = QPushButton("Find cameras")
        self.find.setToolTip("Look for cameras at device numbers 0–5 (a few seconds at most)")
        self.start = QPushButton("Start")
        self.preview = QLabel("No picture: start the camera")
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setFixedHeight(PREVIEW_HEIGHT)
        self.preview.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)  # a picture never widens the column
        self.preview.setStyleSheet("background: #202020; color: #c0c0c0;")
        self.capture = QPushButton("Capture (Space)")
        self.capture.setEnabled(False)
        self.every = QSpinBox()
        self.every.setRange(0, 3600)
        self.every.setSuffix(" s")
        self.every.setPrefix("also every ")
        self.every.setSpecialValueText("on the key only")
        self.every.setToolTip("Capture on a clock as well as on Space (0: on the key only)")
        self.state = QLabel("")
        self.state.setWordWrap(True)
        self.state.setTextFormat(Qt.PlainText)  # a URL or a file name is shown as written
        top = QHBoxLayout()
        for w in (self.device, self.find, self.start):
            top.addWidget(w)
        bottom = QHBoxLayout()
        bottom.addWidget(self.capture)
        bottom.addWidget(self.every)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.preview)
        layout.addLayout(bottom)
        layout.addWidget(self.state)
        self._running = False
        self._picture: QImage | None = None
        self.start.clicked.connect(self._start_or_stop)
        self.find.clicked.connect(self.find_requested)
        self.capture.clicked.connect(self.capture_requested)

    def camera(self) -> str:
        """The camera chosen: a found device's number, or what was typed."""
        text = self.device.currentText().strip()
        listed = _LISTED.match(text)
        return listed.group(1) if listed else text

    def _start_or_stop(self) -> None:
        if self._running:
            self.stop_requested.emit()
        elif self.camera():
            self.start_requested.emit(self.camera(), self.every.value() * 1000)

    def show_running(self, running: bool) -> None:
        self._running = running
        self.start.setText("Stop" if running else "Start")
        self.capture.setEnabled(running)
        self.device.setEnabled(not running)

    def show_camera(self, camera: str) -> None:
        self.device.setEditText(camera)
        self.device.lineEdit().setCursorPosition(0)  # typed in, a long path shows its beginning

    def _tell_whole(self, text: str) -> None:
        """The whole camera in the tooltip (the field may show it elided)."""
        self.device.setToolTip(f"{text}\n\n{DEVICE_TIP}" if text else DEVICE_TIP)

    def show_state(self, text: str) -> None:
        self.state.setText(text)

    def show_devices(self, devices) -> None:
        """The device numbers that answered, listed; what was typed stays."""
        typed = self.device.currentText()
        self.device.clear()
        for d in devices:
            if d.found:
                self.device.addItem(f"{d.index}  ({d.size[0]}×{d.size[1]})" if d.size else f"{d.index}  (camera)")
        self.device.setEditText(typed)

    def show_preview(self, image: QImage) -> None:
        self._picture = image
        self._fit()

    def _fit(self) -> None:
        if self._picture is not None:
            self.preview.setPixmap(QPixmap.fromImage(self._picture).scaled(
                self.preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
