"""The report's histogram reads like a chart (issue 22, the audit's last points): photo counts on
its y axis, a 0-100 score axis with each label drawn once, and the threshold lines labelled.
Through the real entry point, ``python -m app score --report``."""
import base64
import re

import cv2
import numpy as np

from app.__main__ import main
from app.core.outputs.report_images import HISTOGRAM_SCALE, _MARGINS, count_ticks, histogram_axes
from app.core.verdict import Thresholds


def dark_rows(gray: np.ndarray) -> list[tuple[int, int]]:
    """The runs of rows holding dark (text) pixels: one per line of text stacked in ``gray``."""
    rows = (gray < 100).any(axis=1)
    runs, start = [], None
    for y, dark in enumerate(rows):
        if dark and start is None:
            start = y
        elif not dark and start is not None:
            runs.append((start, y))
            start = None
    return runs + ([(start, len(rows))] if start is not None else [])


def test_the_html_reports_histogram_has_a_count_axis_a_score_axis_and_labelled_thresholds(
        exported_student, make_photos, tmp_path, capsys):
    photos = make_photos(tmp_path / "batch", 9, sizes=[(60 + 8 * i, 72) for i in range(9)])
    report = tmp_path / "report.html"
    assert main(["--model", str(exported_student[1]), "score", str(photos[0].parent), "--db",
                 str(tmp_path / "station.db"), "--report", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    [(data, alt)] = re.findall(r"<img src='data:image/png;base64,([^']+)' alt='(histogram of[^']*)'", html)
    assert "photos per 5 points of score (0-100)" in alt and "fail below 40" in alt and "pass from 60" in alt
    picture = cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_GRAYSCALE)
    left, top, right, bottom = (m * HISTOGRAM_SCALE for m in _MARGINS)
    # The count axis: its labels stacked in the left margin, one per tick (the old picture had
    # only its "0" there, at the bottom).
    labels = dark_rows(picture[top - 10:-bottom + 10, :left - 4])
    assert len(labels) >= 3, labels
    # The score axis: 0, 20 … 100 below the plot, each once; "Score" under them.
    below = picture[-bottom + 5 * HISTOGRAM_SCALE:, left - 20:]  # under the tick marks
    assert len(dark_rows(below)) == 2  # the tick labels' line and the axis title's
    # The thresholds: their labels stand above the plot.
    assert dark_rows(picture[:top - 2, left:])


def test_the_axes_name_each_score_tick_once_count_up_to_the_tallest_bar_and_label_both_lines():
    axes = histogram_axes(np.array([0, 3, 7, 1]), Thresholds(70.0, 45.0))
    assert axes.score_ticks == (0, 20, 40, 60, 80, 100)
    assert axes.count_ticks[0] == 0 and axes.count_ticks[-1] >= 7 and len(axes.count_ticks) <= 5
    assert axes.lines == ((45.0, "fail below 45"), (70.0, "pass from 70"))
    assert count_ticks(0) == (0, 1) and count_ticks(4) == (0, 1, 2, 3, 4) and count_ticks(230)[-1] >= 230
