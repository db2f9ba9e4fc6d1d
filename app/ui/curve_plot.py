"""A small line plot for training curves (loss and validation SRCC per epoch), painted directly:
the runtime has no plotting library, and two short polylines do not need one."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


class CurvePlot(QWidget):
    """Each series is drawn on its own vertical scale (loss and SRCC differ in range); the
    legend gives each series' latest value."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.series: dict[str, list[float]] = {}
        self.setMinimumHeight(160)

    def set_series(self, series: dict[str, list[float]]) -> None:
        self.series = {k: list(v) for k, v in series.items() if v}
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        left, top, right, bottom = 8, 22, self.width() - 8, self.height() - 8
        p.setPen(QPen(QColor("#999")))
        p.drawRect(left, top, right - left, bottom - top)
        if not self.series:
            p.drawText(self.rect(), Qt.AlignCenter, "curves appear after the first epoch")
            return
        n = max(len(v) for v in self.series.values())
        x_step = (right - left) / max(1, n - 1)
        legend_x = left
        for colour, (name, values) in zip(COLOURS, self.series.items()):
            lo, hi = min(values), max(values)
            span = (hi - lo) or 1.0
            points = [QPointF(left + i * x_step, bottom - (v - lo) / span * (bottom - top)) for i, v in enumerate(values)]
            p.setPen(QPen(QColor(colour), 2))
            if len(points) == 1:
                p.drawEllipse(points[0], 3, 3)
            else:
                p.drawPolyline(points)
            label = f"{name} {values[-1]:.3f}"
            p.drawText(legend_x, 16, label)
            legend_x += p.fontMetrics().horizontalAdvance(label) + 16
