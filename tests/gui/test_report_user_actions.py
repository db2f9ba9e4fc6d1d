"""User stories of what leaves the station: the report a quality manager files (HTML or PDF), the
CSV a spreadsheet opens, and the gallery sorted worst first by the decision in force."""
import csv
import re
import shutil
import socket
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.core.model.contract import model_identity
from tests.gui.conftest import settled
from tests.gui.test_user_actions import action_for, answer_reason, choose_folder_with_ctrl_o, signed_in_with_ctrl_u
from tests.html_tables import ReportPage

pytestmark = pytest.mark.gui
PathRole, StatusRole = Qt.UserRole + 1, Qt.UserRole + 4


def answer_text_dialogs(monkeypatch, answers: dict[str, str]) -> None:
    """Answer QInputDialog.getText by its title (the review's reason, the report's lot id)."""
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda parent, title, *a, **k: (answers[title], True)))


def answer_save_dialog(monkeypatch, path, chosen_filter: str = "") -> list:
    """Answer the save dialog with ``path`` and the file type ``chosen_filter``; returns what it
    was asked with (caption, the proposed file, the file types)."""
    asked = []

    def save(parent, caption, proposed, filters, *args, **kwargs):
        asked.append((caption, proposed, filters))
        return str(path), chosen_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save))
    return asked


def scored_folder(qtbot, window, monkeypatch, folder, n: int = 7) -> None:
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == n and not window.is_busy(), timeout=30000)
    settled(qtbot, window)


def reject_with_x(qtbot, window, path: str) -> None:
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(PathRole) == path)
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    action_for(window, "X").trigger()
    settled(qtbot, window)


def best_scored(window) -> str:
    return max((it for it in window.model.items if it.status == "ok"), key=lambda it: it.score).path


def test_an_inspector_rejects_a_photo_and_the_report_with_a_lot_id_names_the_decision_who_the_lot_and_the_unscored_file(
        qtbot, window, photo_folder, tmp_path, monkeypatch):
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")  # the station's first: its supervisor
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "B-1042")
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    answer_reason(monkeypatch, ("blur", "smudge"))
    answer_text_dialogs(monkeypatch, {"Batch report": "LOT-7"})
    rejected = best_scored(window)
    reject_with_x(qtbot, window, rejected)
    out = tmp_path / "filed.html"
    asked = answer_save_dialog(monkeypatch, out, "HTML, images included (*.html)")
    said = []
    window.statusBar().messageChanged.connect(said.append)
    action_for(window, "Ctrl+R").trigger()
    assert window.statusBar().currentMessage().startswith("Writing report")  # the window is not held
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote report"), timeout=60000)
    assert asked[0][1] == str(photo_folder / f"report-{date.today():%Y-%m-%d}.html")  # in the photo folder, dated
    assert any(re.search(r"Writing report .*\b[1-6]/6\b", m) for m in said), said  # progress while it works
    page = ReportPage(out.read_text(encoding="utf-8"))
    photos = {row["file"]: row for row in page.rows("photos")}
    assert len(photos) == 7 and photos["broken.jpg"]["score"] == "not scored"
    row = photos[Path(rejected).name]
    assert row["disposition"] == "rejected: fail" and row["model verdict"] != "fail"
    assert row["reason"] == "blur: smudge" and row["decided by"] == "B-1042"  # the code, then the note
    batch = page.pairs("batch")
    assert batch["lot"] == "LOT-7" and batch["operator"] == "B-1042" and batch["folder"] == str(photo_folder)
    assert batch["station"] == socket.gethostname()
    assert batch["model identity (SHA-256)"] == model_identity(window.workspace.model.card)  # as approvals name it
    assert [r["file"] for r in page.rows("not-scored")] == ["broken.jpg"]
    assert page.rows("counts")[0]["rejected"] == "1"


def test_the_report_written_as_pdf_is_a_pdf_with_pages_and_its_images(qtbot, window, photo_folder, tmp_path,
                                                                      monkeypatch):
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    answer_text_dialogs(monkeypatch, {"Batch report": ""})  # no lot: optional
    answer_save_dialog(monkeypatch, tmp_path / "filed", "PDF (*.pdf)")  # the file type decides, the suffix follows
    action_for(window, "Ctrl+R").trigger()
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote report"), timeout=60000)
    pdf = (tmp_path / "filed.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2  # a table of 7 photos and 6 overlays: pages, not one
    assert re.search(rb"/Subtype\s*/Image", pdf)  # thumbnails and overlays, not empty frames
    assert not (tmp_path / "filed").exists() and not list(tmp_path.glob(".*.part"))


def test_cancelling_the_lot_question_writes_no_report(qtbot, window, photo_folder, tmp_path, monkeypatch):
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", False)))
    answer_save_dialog(monkeypatch, tmp_path / "never.html", "HTML, images included (*.html)")
    action_for(window, "Ctrl+R").trigger()
    settled(qtbot, window)
    assert not (tmp_path / "never.html").exists()


def test_the_csv_opens_with_a_bom_has_a_disposition_column_and_neutralises_a_formula_looking_file_name(
        qtbot, window, photo_folder, tmp_path, monkeypatch):
    folder = tmp_path / "accents"
    folder.mkdir()
    shutil.copy(photo_folder / "p1.png", folder / "=HYPERLINK(1).png")
    shutil.copy(photo_folder / "p2.png", folder / "Čaj-ü.png")
    scored_folder(qtbot, window, monkeypatch, folder, n=2)
    answer_reason(monkeypatch, "=cmd|' /C calc'!A0")
    rejected = str(folder / "Čaj-ü.png")
    reject_with_x(qtbot, window, rejected)
    out = tmp_path / "scores.csv"
    asked = answer_save_dialog(monkeypatch, out, "CSV (*.csv)")
    action_for(window, "Ctrl+E").trigger()
    settled(qtbot, window)
    assert asked[0][1] == str(folder / f"scores-{date.today():%Y-%m-%d}.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: a spreadsheet reads the names as UTF-8
    with open(out, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f))
        f.seek(0)
        rows = {r["name"]: r for r in csv.DictReader(f)}
    assert header[header.index("verdict") + 1] == "disposition"
    assert rows["Čaj-ü.png"]["disposition"] == "fail" and rows["Čaj-ü.png"]["review"] == "rejected"
    assert rows["Čaj-ü.png"]["review_reason"] == "'=cmd|' /C calc'!A0"  # shown as text, never run
    assert "'=HYPERLINK(1).png" in rows  # the file name as text, not a formula
    other = rows["'=HYPERLINK(1).png"]
    assert other["disposition"] == other["verdict"]  # no decision: the model's verdict stands


def test_sorting_by_verdict_shows_failed_and_rejected_photos_first_and_unscored_files_last(qtbot, window, photo_folder,
                                                                                           monkeypatch):
    scored_folder(qtbot, window, monkeypatch, photo_folder)
    answer_reason(monkeypatch, "smudge")
    rejected = best_scored(window)
    reject_with_x(qtbot, window, rejected)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("verdict")
    qtbot.wait(50)
    shown = [window.model.item(window.proxy.index(r, 0).data(PathRole)) for r in range(window.proxy.rowCount())]
    order = {"fail": 0, "review": 1, "pass": 2, None: 3}
    ranks = [order[it.verdict_in_force] for it in shown]
    assert ranks == sorted(ranks), [(Path(it.path).name, it.verdict_in_force) for it in shown]
    assert window.model.item(rejected).verdict_in_force == "fail" and ranks[0] == 0
    assert Path(shown[-1].path).name == "broken.jpg"  # files that could not be scored come last
    fails = [it for it in shown if it.verdict_in_force == "fail"]
    assert [it.score for it in fails] == sorted(it.score for it in fails)  # within a verdict, the worst score first


@pytest.mark.parametrize("typed, chosen, written", [
    ("/p/report-2026-12-06.html", "PDF (*.pdf)", ("/p/report-2026-12-06.pdf", "pdf")),  # the type picked wins
    ("/p/report-2026-12-06.html", "HTML, images included (*.html)", ("/p/report-2026-12-06.html", "html")),
    ("/p/lot7", "PDF (*.pdf)", ("/p/lot7.pdf", "pdf")),
    ("/p/lot7.pdf", "HTML, images included (*.html)", ("/p/lot7.pdf", "pdf")),  # typed explicitly
    ("/p/lot7.v2", "", ("/p/lot7.v2.html", "html")),
])
def test_the_save_dialogs_file_type_decides_the_reports_format_and_its_suffix(typed, chosen, written):
    from app.ui.output_files import report_target

    path, kind = report_target(typed, chosen)
    assert (str(path), kind) == written
