"""The Training window speaks plainly first (issue 22, finding 8): per model version what to do
and why, per rated photo what the raters thought; the figures and statistical terms (SRCC, PLCC,
intervals, BT.500, P.913, ridge lambda) only behind *Details*, a toggle the station remembers.
On the real window, opened with Ctrl+T."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractButton, QLabel, QProgressBar, QTableWidget

from app.core.ratings.session import LabelingSession
from app.core.store.repository import register_model
from tests.gui.conftest import model_loaded, settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui

STATISTICS = ("SRCC", "PLCC", "95 %", "interval", "P.913", "BT.500", "ridge", "lambda", "λ", "MOS")


def shown_text(panel) -> str:
    """Every text a person sees in the window now: labels, buttons, progress texts, the tables'
    visible column titles and cells, the curves' names."""
    texts = [w.text() for w in panel.findChildren(QLabel) if w.isVisible()]
    texts += [w.text() for w in panel.findChildren(QAbstractButton) if w.isVisible()]
    texts += [w.format() for w in panel.findChildren(QProgressBar) if w.isVisible()]
    for table in panel.findChildren(QTableWidget):
        if not table.isVisible():
            continue
        for c in range(table.columnCount()):
            if table.isColumnHidden(c):
                continue
            texts.append(table.horizontalHeaderItem(c).text())
            texts += [table.item(r, c).text() for r in range(table.rowCount()) if table.item(r, c)]
    if panel.plot.isVisible():
        texts += list(panel.plot.series)
    return "\n".join(texts)


def a_site_version(window, gain_ci, n=24):
    """A fine-tuned version registered at the station, its card carrying a site test."""
    card = dict(window.workspace.model.card, version=f"0.0.0+site.{n}", fine_tune_run=f"run-{n}",
                site_evaluation={"held_out": n, "before": {"srcc": 0.61}, "after": {"srcc": 0.74},
                                 "test": {"gain": 0.13, "gain_ci": list(gain_ci)}})
    register_model(window.workspace.db, card, str(window.workspace.model.onnx_path), origin="fine-tuned",
                   approved_by="fine-tune")


def rated_photos(window) -> None:
    """Three photos, three raters each: a is excellent, b poor, c good."""
    for rater, votes in (("ann", (5, 2, 4)), ("bo", (4, 1, 4)), ("cy", (5, 2, 3))):
        by_photo = dict(zip(("/site/a.png", "/site/b.png", "/site/c.png"), votes))
        session = LabelingSession(window.workspace.db, rater, "site", list(by_photo))
        while (item := session.current()) is not None:  # each rater sees them in an order of their own
            session.vote(by_photo[item.path])


def test_ctrl_t_leads_with_decisions_in_plain_words_and_details_shows_the_statistics_remembered_at_relaunch(
        qtbot, window, exported_student, tmp_path):
    a_site_version(window, (0.04, 0.22))
    rated_photos(window)
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    qtbot.waitExposed(panel)
    settled(qtbot, window)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2 and panel.ratings_table.rowCount() == 3, timeout=10000)
    panel.fit_button.click()  # three photos: the calibration says it cannot, in words
    settled(qtbot, window)

    # The default view: decisions and reasons lead, not a statistic in sight.
    seen = shown_text(panel)
    assert not [term for term in STATISTICS if term in seen], [t for t in STATISTICS if t in seen]
    assert not panel.details_button.isChecked()
    table = panel.table
    assert table.shown_titles()[:2] == ["Decision", "Why"]
    site = table.row_of("0.0.0+site.24")
    assert table.cell(site, "Decision") == "Better on this site's test photos"
    assert "24 test photos" in table.cell(site, "Why")
    shipped = table.row_of(window.workspace.model.card["version"])
    assert table.cell(shipped, "Decision") == "Not tested on this site's photos"
    assert panel.ratings_table.shown_titles() == ["Rated photo", "Raters' opinion", "Votes", "Counts for a fine-tune"]
    assert [panel.ratings_table.cell(r, "Raters' opinion") for r in range(3)] == ["Excellent", "Poor", "Good"]
    assert "3 rated photos from 3 raters" in panel.screening.text()

    # Details shows the figures and their terms.
    panel.details_button.click()
    seen = shown_text(panel)
    assert "SRCC" in seen and "95 % interval" in seen and "MOS ± 95 % CI (0-100)" in seen
    assert table.cell(site, "Test gain, 95 % interval") == "+0.130 [+0.040, +0.220]"
    assert panel.screening_details.isVisible() and panel.plot.isVisible()
    panel.close()
    window.close()

    # A relaunch opens the Training window as it was left: with its details.
    from app.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    again = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(again)
    model_loaded(qtbot, again)
    action_for(again, "Ctrl+T").trigger()
    qtbot.waitExposed(again.training)
    settled(qtbot, again)
    qtbot.waitUntil(lambda: again.training.table.rowCount() == 2, timeout=10000)
    assert again.training.details_button.isChecked() and "SRCC" in shown_text(again.training)
    again.training.details_button.click()  # and hidden again, it stays hidden
    assert settings.value("training_details", type=bool) is False
    again.training.close()
    again.close()


@pytest.mark.parametrize("gain_ci, n, decision", [
    ((-0.05, 0.2), 24, "No better: keep the current model"),
    ((-0.4, -0.1), 24, "Worse: keep the current model"),
    ((0.1, 0.5), 5, "Too few test photos to tell"),
])
def test_each_version_says_in_words_whether_it_is_better_on_the_sites_test_photos(qtbot, window, gain_ci, n,
                                                                                     decision):
    a_site_version(window, gain_ci, n)
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    settled(qtbot, window)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=10000)
    assert panel.table.cell(panel.table.row_of(f"0.0.0+site.{n}"), "Decision") == decision
    panel.close()


def test_the_training_window_opens_larger_on_a_large_screen_within_it(qtbot, window, monkeypatch):
    """On a 1920x1080 screen it opened at 900x760, its versions table cut at the right edge."""
    from PySide6.QtCore import QRect

    from app.ui import window_fit

    monkeypatch.setattr(window_fit, "free_area", lambda widget: QRect(0, 0, 1920, 1040))
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    qtbot.waitExposed(panel)
    settled(qtbot, window)
    assert panel.width() >= 1300 and panel.height() >= 800
    assert panel.frameGeometry().right() <= 1920 and panel.frameGeometry().bottom() <= 1040
    # Every column of the versions table shown within its width, details or not.
    for details in (False, True):
        panel.details_button.setChecked(details)
        qtbot.wait(50)
        table = panel.table
        used = sum(table.columnWidth(c) for c in range(table.columnCount()) if not table.isColumnHidden(c))
        # Plain, every column fits; with the figures too, the rest is a scroll away, never cut off.
        assert used <= table.viewport().width() + 1 or (details and table.horizontalScrollBar().maximum() > 0)
    panel.close()


def test_a_station_with_no_ratings_says_so_in_a_sentence_with_details_or_without(qtbot, window):
    """It said "no rated photos. No votes to screen yet." (lower case, and statistics' words)."""
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    qtbot.waitExposed(panel)
    settled(qtbot, window)
    qtbot.waitUntil(lambda: panel.screening.text() != "", timeout=10000)
    assert panel.screening.text().startswith("No rated photos yet: raters rate photos")
    panel.details_button.click()
    assert panel.screening_details.text().startswith("No rated photos. No votes to screen yet")
    panel.close()
