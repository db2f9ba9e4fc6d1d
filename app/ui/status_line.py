"""The window's status bar and progress bar, whose texts fit the room they have.

QStatusBar draws a message clipped at the first permanent widget: at a narrow window a long
message ("Wrote report /long/folder/report-….pdf (240 photos)") lost its end, the part that says
how it went. Here it is elided in the middle (its start says what happened, its end the file and
the count) and the whole message is the tooltip. The progress bar's text (count · pace · time
left) drops its least needed parts first, the whole text in its tooltip."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QProgressBar, QStatusBar, QStyle, QStyleOption

SEPARATOR = " · "


class StatusLine(QStatusBar):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.messageChanged.connect(self._fit)

    def message_rect(self) -> QRect:
        """Where a message is drawn: from the left edge to the first permanent widget shown."""
        right = self.width() - 6
        for widget in self.children():
            if getattr(widget, "isWidgetType", lambda: False)() and widget.isVisible() and widget.x() > 0:
                right = min(right, widget.x() - 6)
        return QRect(6, 0, max(0, right - 6), self.height())

    def shown_text(self) -> str:
        """The message as drawn: whole when it fits, else elided in the middle."""
        return self.fontMetrics().elidedText(self.currentMessage(), Qt.ElideMiddle, self.message_rect().width())

    def _fit(self, *_args) -> None:
        message = self.currentMessage()
        self.setToolTip(message if message and self.shown_text() != message else "")
        self.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def paintEvent(self, event) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        # As QStatusBar paints a message (the panel, then the text), the text elided.
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PE_PanelStatusBar, option, painter, self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.message_rect(), Qt.AlignLeading | Qt.AlignVCenter | Qt.TextSingleLine, self.shown_text())


def fitted(text: str, fits) -> str:
    """``text`` ("a · b · c"), its last parts dropped until ``fits(shorter)``: the count stays."""
    parts = text.split(SEPARATOR)
    while len(parts) > 1 and not fits(SEPARATOR.join(parts)):
        parts.pop()
    return SEPARATOR.join(parts)


class FittedProgressBar(QProgressBar):
    """A progress bar whose text drops its tail parts when the bar is too narrow for them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full = ""

    def set_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def full_text(self) -> str:
        return self._full

    def _fit(self) -> None:
        if not self.isVisible():  # no width of its own yet: fitted when shown (resizeEvent)
            self.setFormat(self._full)
            return
        room = self.width() - 12  # the style's frame and a little air
        self.setFormat(fitted(self._full, lambda t: self.fontMetrics().horizontalAdvance(t) <= room))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
