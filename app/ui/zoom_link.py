"""Two zoom views that move as one: the compare view's panes.

What one view does, the other repeats: a zoom step by the same factor, Fit, 100 %; and after
every zoom or pan the other looks at the same point *relative to its photo* (a fraction of its
width and height), so two photos of different sizes stay aligned: the centre of a 6000x4000
photo beside the centre of a 3000x2000 one. Zoom steps are shared rather than zoom levels so
that 100 % on one is 100 % on the other too: both at native pixels, which is what judging blur
and noise side by side needs."""
from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QObject

from .zoom_view import ACTUAL, FIT, ZoomView


class ZoomLink(QObject):
    def __init__(self, first: ZoomView, second: ZoomView, parent=None):
        super().__init__(parent)
        self.views = (first, second)
        self._following = False  # a view repeating the other's move must not send it back
        for view in self.views:
            view.stepped.connect(lambda how, factor, v=view: self._zoomed(v, how, factor))
            for bar in (view.horizontalScrollBar(), view.verticalScrollBar()):
                bar.valueChanged.connect(lambda _value, v=view: self._moved(v))

    def other(self, view: ZoomView) -> ZoomView:
        return self.views[1] if view is self.views[0] else self.views[0]

    @contextmanager
    def _repeating(self):
        self._following = True
        try:
            yield
        finally:
            self._following = False

    def _zoomed(self, source: ZoomView, how: str, factor: float) -> None:
        if self._following:
            return
        target = self.other(source)
        with self._repeating():
            if how == FIT:
                target.fit()
            elif how == ACTUAL:
                target.actual_size()
            else:
                target.zoom_by(factor)
            target.centre_on_relative(source.relative_centre())

    def _moved(self, source: ZoomView) -> None:
        if self._following:
            return
        with self._repeating():
            self.other(source).centre_on_relative(source.relative_centre())
