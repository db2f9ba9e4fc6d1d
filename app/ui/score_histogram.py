"""The thresholds panel's score histogram, with its axes: scores 0-100 along the bottom, photo
counts up the side, the two threshold lines named where they stand ("fail < 45", "pass ≥ 70") and
a legend for the bars' colours beside the axis title. Painted directly (the runtime has no
plotting library); what it writes on the axes is computed by plain methods, so a test can read
what a supervisor reads."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from ..core.verdict import Thresholds

BINS = 20  # 5 score points a bar
SCORE_TICKS = (0, 20, 40, 60, 80, 100)
COLOURS = {"pass": QColor(90, 170, 90), "review": QColor(230, 180, 60), "fail": QColor(210, 80, 80)}
LINE_COLOURS = {"fail": QColor(160, 0, 0), "pass": QColor(0, 110, 0)}
SCORE_TITLE, COUNT_TITLE = "Score", "Photos"
TEXT = QColor(60, 60, 60)


def count_ticks(peak: int, most: int = 4) -> list[int]:
    """Round counts for the side axis, 0 to at least ``peak``, at most ``most`` steps: 1, 2 or 5
    times a power of ten, so a batch of 7 reads 0 2 4 6 8 and one of 9,000 reads 0 5000 10000."""
    peak = max(1, int(peak))
    power = 10 ** max(0, math.floor(math.log10(peak / most)) if peak > most else 0)
    step = next(m * power for m in (1, 2, 5, 10) if peak <= m * power * most)
    return list(range(0, step * math.ceil(peak / step) + 1, step))


class ScoreHistogram(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(240, 160)
        self.counts = np.zeros(BINS, int)
        self.thresholds = Thresholds()

    def set_scores(self, scores) -> None:
        self.counts = np.histogram(np.asarray(scores, float), bins=BINS, range=(0, 100))[0]
        self.update()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.update()

    # --- what the axes say --------------------------------------------------------------------
    def score_ticks(self) -> list[tuple[int, str]]:
        return [(v, str(v)) for v in SCORE_TICKS]

    def count_ticks(self) -> list[tuple[int, str]]:
        return [(v, str(v)) for v in count_ticks(int(self.counts.max()))]

    def threshold_labels(self) -> dict[str, str]:
        t = self.thresholds
        return {"fail": f"fail < {t.fail_below:.0f}", "pass": f"pass \u2265 {t.pass_at:.0f}"}

    def legend(self) -> list[tuple[str, QColor]]:
        return list(COLOURS.items())

    def axis_titles(self) -> tuple[str, str]:
        return SCORE_TITLE, COUNT_TITLE

    # --- painting -----------------------------------------------------------------------------
    def _plot_rect(self) -> QRectF:
        fm = self.fontMetrics()
        line = fm.height()
        left = fm.horizontalAdvance(self.count_ticks()[-1][1]) + line + 10  # tick labels + the rotated title
        top = line + 4  # the threshold lines' names
        bottom = 2 * line + 8  # tick labels, then the legend and the axis title
        return QRectF(left, top, max(10, self.width() - left - 10), max(10, self.height() - top - bottom))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(250, 250, 250))
        fm = self.fontMetrics()
        plot = self._plot_rect()
        ticks = self.count_ticks()
        top_count = max(1, ticks[-1][0])

        def x_of(score: float) -> float:
            return plot.left() + plot.width() * min(100.0, max(0.0, score)) / 100

        def y_of(count: float) -> float:
            return plot.bottom() - plot.height() * count / top_count

        # Grid lines and count ticks first, under the bars.
        for value, text in ticks:
            y = y_of(value)
            p.setPen(QPen(QColor(225, 225, 225), 1))
            p.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            p.setPen(TEXT)
            p.drawText(QRectF(0, y - fm.height() / 2, plot.left() - 4, fm.height()),
                       Qt.AlignRight | Qt.AlignVCenter, text)
        bw = plot.width() / BINS
        for i, n in enumerate(self.counts):
            centre = (i + 0.5) * 100 / BINS
            top = y_of(n)
            p.fillRect(QRectF(plot.left() + i * bw + 1, top, bw - 2, plot.bottom() - top),
                       COLOURS[self.thresholds.verdict(centre)])
        p.setPen(QPen(QColor(120, 120, 120), 1))
        p.drawLine(int(plot.left()), int(plot.bottom()), int(plot.right()), int(plot.bottom()))
        p.drawLine(int(plot.left()), int(plot.top()), int(plot.left()), int(plot.bottom()))
        # Score ticks and the axis titles.
        for value, text in self.score_ticks():
            x = x_of(value)
            p.setPen(QPen(QColor(120, 120, 120), 1))
            p.drawLine(int(x), int(plot.bottom()), int(x), int(plot.bottom()) + 4)
            p.setPen(TEXT)
            width = fm.horizontalAdvance(text)
            left = min(max(0.0, x - width / 2), self.width() - width - 1.0)  # "100" stays inside
            p.drawText(QRectF(left, plot.bottom() + 5, width + 1, fm.height()), Qt.AlignCenter, text)
        score_title, count_title = self.axis_titles()
        # The axis title at the axis' right end, the legend at its left: one line for both.
        p.drawText(QRectF(plot.left(), plot.bottom() + 7 + fm.height(), plot.width(), fm.height()),
                   Qt.AlignRight | Qt.AlignVCenter, score_title)
        p.save()
        p.translate(2, plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, 0, plot.height(), fm.height()), Qt.AlignHCenter, count_title)
        p.restore()
        self._paint_thresholds(p, plot, x_of)
        self._paint_legend(p, plot)
        p.end()

    def _paint_thresholds(self, p: QPainter, plot: QRectF, x_of) -> None:
        """Each line named above the plot: "fail < N" ends at its line (to its left), "pass ≥ M"
        starts at its line (to its right), so the two never cover each other."""
        fm = self.fontMetrics()
        y = plot.top() - fm.height() - 1
        labels = self.threshold_labels()
        for kind, value in (("fail", self.thresholds.fail_below), ("pass", self.thresholds.pass_at)):
            x = x_of(value)
            p.setPen(QPen(LINE_COLOURS[kind], 2))
            p.drawLine(int(x), int(plot.top()), int(x), int(plot.bottom()))
            text = labels[kind]
            width = fm.horizontalAdvance(text) + 2
            left = x - width - 2 if kind == "fail" else x + 3
            left = min(max(0.0, left), self.width() - width)
            p.drawText(QRectF(left, y, width, fm.height()), Qt.AlignCenter, text)

    def _paint_legend(self, p: QPainter, plot: QRectF) -> None:
        fm = self.fontMetrics()
        x, y, box = 2.0, plot.bottom() + 7 + fm.height(), fm.height() - 4  # from the edge: "Score" fits beside it
        for name, colour in self.legend():
            p.fillRect(QRectF(x, y + 2, box, box), colour)
            p.setPen(TEXT)
            width = fm.horizontalAdvance(name)
            p.drawText(QRectF(x + box + 4, y, width + 2, fm.height()), Qt.AlignLeft | Qt.AlignVCenter, name)
            x += box + width + 12
