"""The window's status bar and progress bar, whose texts fit the room they have.

QStatusBar draws a message clipped at the first permanent widget: at a narrow window a long
message ("Wrote report /long/folder/report-….pdf (240 photos)") lost its end, the part that says
how it went. Here it is elided in the middle (its start says what happened, its end the file and
the count) and the whole message is the tooltip. The progress bar's text (count · pace · time
left) drops its least needed parts first, the whole text in its tooltip."""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QStyle, QStyleOption, QToolButton, QWidget

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
        for widget in self.findChildren(QWidget):  # the permanent part's share follows the bar's width
            if isinstance(widget, (ElidedLabel, ElidedToolButton)):
                widget.updateGeometry()
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


PROGRESS_WIDTH = 160


class FittedProgressBar(QProgressBar):
    """A progress bar whose text drops its tail parts when the bar is too narrow for them."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full = ""

    def sizeHint(self) -> QSize:  # room for the count and the pace; the tail drops when narrower
        return QSize(PROGRESS_WIDTH, super().sizeHint().height())

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


# The permanent part of the status bar (who, which model, which thresholds) gives way to the
# message in a narrow window: each asks for at most this share of the bar (never less than the
# minimum width), its text elided, the whole in its tooltip. At their full width they left the
# message of a 1,057-px window a few letters ("Wrote r…scored)"): a status bar's layout gives
# permanent widgets their size hint first and the message only what is left.
PERMANENT_MIN_WIDTH = 90
PERMANENT_SHARE = 0.17


def permanent_width(widget: QWidget, wanted: int) -> int:
    bar = widget.parentWidget()
    if bar is None or bar.width() <= 0:
        return wanted
    return min(wanted, max(PERMANENT_MIN_WIDTH, int(bar.width() * PERMANENT_SHARE)))


class ElidedLabel(QLabel):
    """A label that may be narrower than its text: drawn elided at the end, whole in its tooltip."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self._tip = ""

    def setToolTip(self, tip: str) -> None:  # a tooltip of its own, kept beside the elision's
        self._tip = tip
        self._fit()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def shown_text(self) -> str:
        return self.fontMetrics().elidedText(self.text(), Qt.ElideRight, self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        return QSize(min(PERMANENT_MIN_WIDTH, super().sizeHint().width()), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(permanent_width(self, hint.width()), hint.height())

    def _fit(self) -> None:
        whole = self.shown_text() == self.text()
        QLabel.setToolTip(self, "\n".join(t for t in (self._tip, "" if whole else self.text()) if t))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(self.contentsRect(), Qt.AlignLeading | Qt.AlignVCenter | Qt.TextSingleLine, self.shown_text())


class ElidedToolButton(QToolButton):
    """A flat tool button whose text is elided when the bar is narrow, whole in its tooltip."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full, self._tip = "", ""

    def set_full_text(self, text: str, tip: str = "") -> None:
        self._full, self._tip = text, tip
        self._fit()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        return QSize(PERMANENT_MIN_WIDTH, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(permanent_width(self, self.fontMetrics().horizontalAdvance(self._full) + 16), hint.height())

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(0, self.width() - 16))
        super().setText(shown if self.isVisible() else self._full)
        self.setToolTip("\n".join(t for t in (self._tip, "" if shown == self._full else self._full) if t))
        self.updateGeometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
