"""The thresholds panel's histogram reads like a chart: a score axis with ticks, photo counts up
the side, each threshold line named, and a legend for the bar colours; on the real window."""
import numpy as np
import pytest

from tests.gui.test_report_user_actions import scored_folder

pytestmark = pytest.mark.gui


def ink(image, left, top, width, height) -> int:
    """How many pixels of a region of a grabbed widget are dark (text or lines)."""
    region = image.copy(left, top, width, height).convertToFormat(image.Format.Format_Grayscale8)
    pixels = np.frombuffer(region.constBits(), np.uint8, region.sizeInBytes())
    return int((pixels < 140).sum())


def test_the_histogram_has_a_score_axis_counts_a_legend_and_names_the_threshold_lines_as_they_move(
        qtbot, window, photo_folder, monkeypatch):
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    histogram = window.panel.histogram
    assert histogram.score_ticks() == [(v, str(v)) for v in (0, 20, 40, 60, 80, 100)]
    counts = [v for v, _ in histogram.count_ticks()]
    assert counts[0] == 0 and counts[-1] >= int(histogram.counts.max()) > 0 and len(counts) <= 5
    assert histogram.axis_titles() == ("Score", "Photos")
    assert [name for name, _ in histogram.legend()] == ["pass", "review", "fail"]
    t = window.workspace.thresholds
    assert histogram.threshold_labels() == {"fail": f"fail < {t.fail_below:.0f}", "pass": f"pass \u2265 {t.pass_at:.0f}"}

    # The supervisor drags the sliders: the lines' names follow.
    window.panel.pass_slider.setValue(80)
    window.panel.fail_slider.setValue(35)
    assert histogram.threshold_labels() == {"fail": "fail < 35", "pass": "pass \u2265 80"}

    # Drawn, not only computed: text in the side margin, under the plot (ticks, legend, axis title)
    # and above it (the lines' names).
    histogram.resize(300, 200)
    image = histogram.grab().toImage()
    plot = histogram._plot_rect()
    assert ink(image, 0, int(plot.top()), int(plot.left()) - 2, int(plot.height())) > 20  # count ticks
    assert ink(image, 0, int(plot.bottom()) + 3, image.width(), image.height() - int(plot.bottom()) - 3) > 40
    assert ink(image, 0, 0, image.width(), int(plot.top()) - 1) > 40


def test_on_a_1920x1080_screen_the_thresholds_panel_gives_its_room_to_the_histogram_not_an_empty_gap(qtbot, window):
    """At 1920x1080 a large empty band sat between the saved profiles and the EXIF panel."""
    window.show()
    window.resize(1920, 1050)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.thresholds_dock.height() > 450, timeout=5000)
    panel = window.panel
    below_last = panel.height() - panel.history.geometry().bottom()
    assert below_last < 40, (panel.height(), panel.history.geometry())
    assert panel.histogram.height() > panel.histogram.minimumHeight() + 40  # the chart took the room


def test_with_the_messages_panel_open_the_thresholds_panel_scrolls_rather_than_draw_its_sliders_over_the_chart(
        qtbot, window, monkeypatch):
    """At 1480x930 with Messages opened (Ctrl+Shift+L) and a saved profile listed, the 'Pass at'
    row was drawn over the histogram's legend: the column was shorter than the panel's least height."""
    from tests.gui.test_user_actions import action_for, answer_supervisor, signed_in_with_ctrl_u

    window.show()
    window.resize(1480, 930)
    qtbot.waitExposed(window)
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    answer_supervisor(monkeypatch, None)
    window.panel.profile.setText("night shift, the long name a site gives its profile")
    window.panel.save_requested.emit(window.panel.thresholds(), window.panel.profile.text())
    qtbot.waitUntil(lambda: "night shift" in window.panel.history.text(), timeout=10000)
    action_for(window, "Ctrl+Shift+L").trigger()
    qtbot.waitUntil(lambda: window.messages_dock.isVisible(), timeout=5000)
    qtbot.wait(200)
    panel = window.panel
    chart_bottom = panel.histogram.geometry().bottom()
    first_row_top = min(panel.pass_slider.geometry().top(), panel.pass_label.geometry().top())
    assert panel.histogram.height() >= panel.histogram.minimumHeight()
    assert chart_bottom < first_row_top, (panel.histogram.geometry(), panel.pass_slider.geometry())
