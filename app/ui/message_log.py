"""The window's message log: every error and warning it said, with the time it was said.

The status bar shows one message, and the next replaces it: a photo that could not be read, a
failed export or a lost camera, said while the inspector looked at a photo, was gone by the
time they looked down. Each is also kept here (the newest ``KEEP``; a shift's worth), listed in
the Messages panel (View menu), while the status bar goes on showing the latest.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

KEEP = 2000
ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Message:
    at: datetime
    level: str  # ERROR or WARNING
    text: str


class MessageLog(QObject):
    added = Signal(object)  # Message
    cleared = Signal()

    def __init__(self, parent=None, keep: int = KEEP, clock=datetime.now):
        super().__init__(parent)
        self.keep = keep
        self._messages: deque[Message] = deque(maxlen=keep)
        self._clock = clock

    def add(self, level: str, text: str) -> Message:
        message = Message(self._clock(), level, text)
        self._messages.append(message)
        self.added.emit(message)
        return message

    def messages(self) -> list[Message]:
        return list(self._messages)

    def clear(self) -> None:
        self._messages.clear()
        self.cleared.emit()


class MessageLogPanel(QWidget):
    """Newest first: time, kind and what was said (the whole text in its tooltip)."""

    def __init__(self, log: MessageLog, parent=None):
        super().__init__(parent)
        self.log = log
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Time", "Kind", "Message"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setWordWrap(False)
        header = self.list.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.empty = QLabel("No errors or warnings yet")
        clear = QPushButton("Clear")
        clear.clicked.connect(log.clear)
        bottom = QHBoxLayout()
        bottom.addWidget(self.empty, 1)
        bottom.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(bottom)
        for message in log.messages():
            self._add(message)
        log.added.connect(self._add)
        log.cleared.connect(self._cleared)
        self._count()

    def sizeHint(self) -> QSize:
        # A few lines when first opened: at 1280x800 the dock took a third of the window's height
        # from the photo (its height is remembered once the person drags it).
        return QSize(super().sizeHint().width(), 150)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the list shows, top (newest) first."""
        return [tuple(self.list.topLevelItem(i).text(c) for c in range(3)) for i in range(self.list.topLevelItemCount())]

    def _add(self, message: Message) -> None:
        row = QTreeWidgetItem([message.at.strftime("%H:%M:%S"), message.level, message.text])
        row.setToolTip(0, message.at.strftime("%Y-%m-%d %H:%M:%S"))
        row.setToolTip(2, message.text)
        if message.level == ERROR:
            row.setForeground(1, Qt.darkRed)
        self.list.insertTopLevelItem(0, row)
        while self.list.topLevelItemCount() > self.log.keep:
            self.list.takeTopLevelItem(self.list.topLevelItemCount() - 1)
        self._count()

    def _cleared(self) -> None:
        self.list.clear()
        self._count()

    def _count(self) -> None:
        n = self.list.topLevelItemCount()
        self.empty.setText(f"{n} message{'s' if n != 1 else ''} this session" if n else "No errors or warnings yet")
