"""Reason codes on decisions: the site's short list offered when an inspector accepts or rejects,
stored with the decision, shown in the gallery, the CSV and the report; on the real window."""
import csv

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from tests.gui.conftest import model_loaded, settled
from tests.gui.test_report_user_actions import answer_save_dialog, answer_text_dialogs, reject_with_x, scored_folder
from tests.gui.test_user_actions import action_for, answer_reason
from tests.html_tables import ReportPage

pytestmark = pytest.mark.gui
PathRole = Qt.UserRole + 1


def set_the_sites_codes(qtbot, window, monkeypatch, text: str) -> None:
    """Review → Reason codes (Ctrl+Shift+R), answered with ``text``."""
    answer_text_dialogs(monkeypatch, {"Reason codes": text})
    action_for(window, "Ctrl+Shift+R").trigger()
    settled(qtbot, window)


def select(window, path: str) -> int:
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(PathRole) == path)
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    return row


def test_a_reject_with_a_sites_code_is_shown_in_the_gallery_and_lands_in_the_csv_and_the_report(
        qtbot, window, photo_folder, tmp_path, monkeypatch):
    set_the_sites_codes(qtbot, window, monkeypatch, "Blur, glare, framing, blur")  # the site's own list
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    window.filter_box.setCurrentText("all")
    glare, accepted = str(photo_folder / "p1.png"), str(photo_folder / "p4.png")
    asked = answer_reason(monkeypatch, ("glare", ""), ("other", "customer signs off"))
    reject_with_x(qtbot, window, glare)
    row = select(window, accepted)
    action_for(window, "A").trigger()
    qtbot.waitUntil(lambda: window.model.item(accepted).review is not None)
    assert asked == [("rejected", ("blur", "glare", "framing", "other")), ("accepted", ("blur", "glare", "framing", "other"))]
    shown = window.proxy.index(select(window, glare), 0)
    assert "✗ glare" in shown.data(Qt.DisplayRole)  # the code in the caption
    assert "rejected by" in shown.data(Qt.ToolTipRole) and ": glare" in shown.data(Qt.ToolTipRole)
    assert "other: customer signs off" in window.proxy.index(row, 0).data(Qt.ToolTipRole)

    out = tmp_path / "coded.csv"
    answer_save_dialog(monkeypatch, out, "CSV (*.csv)")
    action_for(window, "Ctrl+E").trigger()
    qtbot.waitUntil(lambda: out.exists())
    with open(out, newline="", encoding="utf-8-sig") as f:
        exported = {r["name"]: r for r in csv.DictReader(f)}
    assert (exported["p1.png"]["review_reason_code"], exported["p1.png"]["review_reason"]) == ("glare", "")
    assert (exported["p4.png"]["review_reason_code"], exported["p4.png"]["review_reason"]) == ("other", "customer signs off")
    assert exported["p2.png"]["review_reason_code"] == ""

    report = tmp_path / "coded.html"
    answer_save_dialog(monkeypatch, report, "HTML, images included (*.html)")
    answer_text_dialogs(monkeypatch, {"Batch report": ""})
    action_for(window, "Ctrl+R").trigger()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote report"), timeout=60000)
    photos = {r["file"]: r for r in ReportPage(report.read_text(encoding="utf-8")).rows("photos")}
    assert photos["p1.png"]["reason"] == "glare" and photos["p4.png"]["reason"] == "other: customer signs off"


def test_undo_puts_back_the_replaced_decisions_code(qtbot, window, photo_folder, monkeypatch):
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    path = str(photo_folder / "p1.png")
    answer_reason(monkeypatch, ("blur", "soft all over"), ("framing", ""))
    reject_with_x(qtbot, window, path)
    reject_with_x(qtbot, window, path)  # a change of mind: framing, not blur
    assert window.model.item(path).review.why == "framing"
    action_for(window, "Ctrl+Z").trigger()
    qtbot.waitUntil(lambda: window.model.item(path).review.why == "blur: soft all over")


def test_the_reason_question_offers_the_codes_and_other_needs_its_note(qtbot):
    from app.ui.reason_dialog import ReasonDialog

    dialog = ReasonDialog(None, "rejected", ("blur", "exposure", "other"))
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    assert [dialog.code.itemText(i) for i in range(dialog.code.count())] == ["blur", "exposure", "other"]
    assert ok.isEnabled() and dialog.answer() == ("blur", "")  # a code alone is enough
    dialog.code.setCurrentText("other")
    assert not ok.isEnabled()  # "other" says nothing without its note
    qtbot.keyClicks(dialog.note, "  lens cap on ")
    assert ok.isEnabled() and dialog.answer() == ("other", "lens cap on")


def another_station(qtbot, exported_student, tmp_path, settings_name: str):
    """A second station on the site's database: its own computer and settings."""
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow

    station = MainWindow(exported_student[1], tmp_path / "inspector.db",
                         QSettings(str(tmp_path / settings_name), QSettings.IniFormat))
    qtbot.addWidget(station)
    model_loaded(qtbot, station)
    settled(qtbot, station)
    return station


def test_a_supervisor_changes_the_sites_reason_codes_and_every_station_offers_them(
        qtbot, window, photo_folder, tmp_path, monkeypatch, exported_student):
    from tests.gui.test_user_actions import answer_supervisor, signed_in_with_ctrl_u

    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")  # the first: a supervisor
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")  # an operator: a supervisor must confirm
    asked = answer_supervisor(monkeypatch, "Ana")
    set_the_sites_codes(qtbot, window, monkeypatch, "glare, Scratch, other, glare")
    assert asked == [("change the site's reason codes", ["Ana"])]
    assert window.statusBar().currentMessage() == "Reason codes for every station: glare, scratch, other (Ana)"

    station = another_station(qtbot, exported_student, tmp_path, "station-2.ini")
    scored_folder(qtbot, station, monkeypatch, photo_folder)
    offered = answer_reason(monkeypatch, ("scratch", ""))
    reject_with_x(qtbot, station, str(photo_folder / "p1.png"))
    assert offered == [("rejected", ("glare", "scratch", "other"))]
    assert station.model.item(str(photo_folder / "p1.png")).review.reason_code == "scratch"

    # Changed again at the first station: the second follows within its station-sync poll.
    set_the_sites_codes(qtbot, window, monkeypatch, "blur, glare")
    qtbot.waitUntil(lambda: station.reason_codes.codes == ("blur", "glare", "other"), timeout=10000)
    offered = answer_reason(monkeypatch, ("blur", ""))
    reject_with_x(qtbot, station, str(photo_folder / "p2.png"))
    assert offered == [("rejected", ("blur", "glare", "other"))]
    station.close()


def test_a_stations_own_list_from_its_settings_becomes_the_sites_only_while_the_site_has_none(
        qtbot, window, tmp_path, exported_student):
    from PySide6.QtCore import QSettings

    from app.core.outputs.reason_codes import site_reason_codes

    assert window.reason_codes.codes == ("blur", "exposure", "noise", "framing", "other")  # the defaults
    window.close()
    for name, codes in (("old-station.ini", "dust, glare"), ("older-station.ini", "tilt")):
        QSettings(str(tmp_path / name), QSettings.IniFormat).setValue("review/reason_codes", codes)
    first = another_station(qtbot, exported_student, tmp_path, "old-station.ini")
    assert first.reason_codes.codes == ("dust", "glare", "other")
    assert first.settings.value("review/reason_codes") is None  # moved, not kept in two places
    first.close()
    second = another_station(qtbot, exported_student, tmp_path, "older-station.ini")
    assert second.reason_codes.codes == ("dust", "glare", "other")  # the site's list stands
    assert site_reason_codes(second.workspace.db) == ("dust", "glare", "other")
    second.close()
