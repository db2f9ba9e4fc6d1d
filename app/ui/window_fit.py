"""Keeping a separate window (the Training window) on the station's screen: opened no larger
than the screen's free area (its title bar included, so it can always be moved), and brought
back, restored and in front, when its menu entry is chosen again after it was minimised. A
1280x800 station screen cut the Training window's bottom off, and Ctrl+T did nothing to a
minimised one."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# The window manager's frame before the window is shown (a title bar, thin borders): once it has
# been shown the real one is measured.
FRAME_GUESS = QSize(16, 40)


def free_area(widget: QWidget) -> QRect:
    """The free part (no task bar or panels) of the screen the widget is on, or of the main screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def _frame(widget: QWidget) -> QSize:
    if widget.isVisible() or widget.isMinimized():
        measured = widget.frameGeometry().size() - widget.geometry().size()
        if measured.width() > 0 or measured.height() > 0:
            return measured
    return FRAME_GUESS


def screen_share(widget: QWidget, least: QSize, width_share: float, height_share: float) -> QSize:
    """A window size that grows with the screen: these shares of the free area, but not below
    ``least`` (fit_on_screen then keeps it within the free area of a small screen)."""
    area = free_area(widget)
    return QSize(max(least.width(), round(area.width() * width_share)),
                 max(least.height(), round(area.height() * height_share)))


def fit_on_screen(widget: QWidget, wanted: QSize) -> None:
    """Size the window to ``wanted`` or the free area, whichever is smaller, and centre it there."""
    area, frame = free_area(widget), _frame(widget)
    room = QSize(area.width() - frame.width(), area.height() - frame.height())
    size = wanted.boundedTo(room).expandedTo(widget.minimumSize())
    widget.resize(size)
    left = area.left() + max(0, (area.width() - size.width() - frame.width()) // 2)
    top = area.top() + max(0, (area.height() - size.height() - frame.height()) // 2)
    widget.move(left, top)


def keep_on_screen(widget: QWidget) -> None:
    """A window that reaches past the free area (moved off, or the screen changed) is fitted again."""
    area, frame = free_area(widget), widget.frameGeometry()
    if not (area.contains(frame.topLeft()) and area.contains(frame.bottomRight())):
        fit_on_screen(widget, widget.size())


def bring_back(widget: QWidget) -> None:
    """Show the window in front of the others: restored if it was minimised, on the screen."""
    if widget.isMinimized():
        widget.setWindowState((widget.windowState() & ~Qt.WindowMinimized) | Qt.WindowActive)
    widget.show()
    keep_on_screen(widget)
    widget.raise_()
    widget.activateWindow()
