"""What a person touches: menu actions and shortcut keys on the real window, dialogs answered."""
import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog

from tests.gui.conftest import settled

pytestmark = pytest.mark.gui


def action_for(window, keys: str) -> QAction:
    found = [a for a in window.findChildren(QAction) if a.shortcut() == QKeySequence(keys)]
    assert len(found) == 1, f"expected one action on {keys}, found {[a.text() for a in found]}"
    return found[0]


def answer_item_dialog(monkeypatch, answer: str) -> list:
    asked = []

    def get_item(parent, title, label, items, *args, **kwargs):
        asked.append(list(items))
        assert answer in items
        return answer, True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(get_item))
    return asked


def answer_reason(monkeypatch, *answers) -> list:
    """Answer the accept / reject question, in turn, with each of ``answers``: a (code, note)
    pair, or a note alone (given as "other"); returns what each question offered (decision, codes)."""
    from app.ui import reason_dialog

    asked, given = [], iter(answers)

    def ask(parent, decision, codes):
        asked.append((decision, codes))
        answer = next(given)
        return answer if isinstance(answer, tuple) else ("other", answer)

    monkeypatch.setattr(reason_dialog, "ask_reason", ask)
    return asked


def test_rating_from_the_menu_opens_the_labeling_panel(qtbot, window, photo_folder, monkeypatch):
    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    asked = answer_item_dialog(monkeypatch, "The photos in the gallery")
    action_for(window, "Ctrl+L").trigger()  # triggered(checked=False) must not become the choice
    assert asked, "the window should ask which photos to rate"
    assert window.labeling is not None and window.labeling.isVisible()
    assert len(window.labeling.photos) == 6
    window.labeling.close()


def test_stepping_through_photos_maps_each_once_and_shows_the_newest(qtbot, window, photo_folder):
    from PySide6.QtCore import Qt

    window.batch.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    rows = [r for r in range(window.proxy.rowCount())
            if window.proxy.index(r, 0).data(Qt.UserRole + 1).endswith(("p1.png", "p2.png", "p3.png"))]
    for r in rows:  # faster than any map: the older requests go stale
        window.gallery.setCurrentIndex(window.proxy.index(r, 0))
    last = window.proxy.index(rows[-1], 0).data(Qt.UserRole + 1)
    qtbot.waitUntil(lambda: window.viewer.native is not None and window.viewer.outcome.record.path == last, timeout=20000)
    assert window.navigation.viewer_jobs.wait(10000)
    # Away to another photo, then back: the newest photo's map is cached, no job starts for it.
    window.gallery.setCurrentIndex(window.proxy.index(rows[0], 0))
    qtbot.waitUntil(lambda: window.viewer.outcome.record.path != last and window.viewer.native is not None, timeout=20000)
    assert window.navigation.viewer_jobs.wait(10000)
    started = window.navigation.viewer_jobs.runs
    window.gallery.setCurrentIndex(window.proxy.index(rows[-1], 0))
    qtbot.waitUntil(lambda: window.viewer.outcome.record.path == last and window.viewer.native is not None, timeout=20000)
    assert window.navigation.viewer_jobs.runs == started


def reject_the_first_scored_photo(qtbot, window, monkeypatch, reason: str) -> tuple[int, str]:
    """X on the gallery's first scored photo, the reason typed; (its row, its path) once stored."""
    from PySide6.QtCore import Qt

    from app.ui.gallery import StatusRole

    answer_reason(monkeypatch, reason)
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(StatusRole) == "ok")
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    path = window.proxy.index(row, 0).data(Qt.UserRole + 1)
    action_for(window, "X").trigger()
    settled(qtbot, window)
    return row, path


def choose_folder_with_ctrl_o(window, monkeypatch, folder) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(folder)))
    action_for(window, "Ctrl+O").trigger()


def test_switching_folder_mid_batch_shows_only_the_new_folder(qtbot, window, photo_folder, tmp_path, monkeypatch):
    import shutil

    other = tmp_path / "second"
    other.mkdir()
    for name in ("p0.png", "p5.png"):
        shutil.copy(photo_folder / name, other / f"new_{name}")
    window.watch.setChecked(True)  # the first batch would run until cancelled
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) >= 1, timeout=20000)
    window.watch.setChecked(False)
    choose_folder_with_ctrl_o(window, monkeypatch, other)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20000)
    qtbot.wait(300)  # any late signal of the first batch would land now
    assert sorted(it.path.rsplit("/", 1)[1] for it in window.model.items) == ["new_p0.png", "new_p5.png"]
    assert window.statusBar().currentMessage().startswith("Done: 2 photos")
    assert not window.cancel_button.isEnabled()


def test_a_database_error_mid_batch_ends_it_with_one_clear_message(qtbot, window, photo_folder, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.core.scoring import catalogue

    def full_disk(*args, **kwargs):
        raise OperationalError("INSERT INTO scores", {}, Exception("database or disk is full"))

    monkeypatch.setattr(catalogue, "record_score", full_disk)
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=20000)
    message = window.statusBar().currentMessage()
    assert message.startswith("Stopped by a database error") and "disk is full" in message
    assert "Traceback" not in message and not window.cancel_button.isEnabled()


def test_sorting_by_name_with_an_unreadable_file_keeps_every_cell_full_size(qtbot, window, photo_folder, monkeypatch):
    window.resize(1000, 700)
    window.show()
    (photo_folder / "aaa_unreadable.jpg").write_bytes(b"not a photo")  # sorts first by name
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 8 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    for descending in (False, True):
        window.sort_box.setCurrentText("name")
        window.descending.setChecked(descending)
        qtbot.wait(50)
        heights = {window.gallery.visualRect(window.proxy.index(r, 0)).height() for r in range(window.proxy.rowCount())}
        assert min(heights) >= 100, heights  # a thumbnail, a score line and a name, never a strip


def test_choosing_a_model_mid_batch_is_refused_and_the_model_kept(qtbot, window, photo_folder, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (asked.append(1), ("", ""))[1]))
    window.watch.setChecked(True)
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) >= 1, timeout=20000)
    before = window.workspace.model_version_id
    action_for(window, "Ctrl+M").trigger()
    assert not asked and "before switching models" in window.statusBar().currentMessage()
    assert window.workspace.model_version_id == before
    window.cancel()
    action_for(window, "Ctrl+M").trigger()
    assert asked  # once nothing runs, the dialog opens


def test_relaunching_opens_the_last_folder_from_the_database_without_rescoring(qtbot, window, photo_folder,
                                                                              exported_student, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from app.core.scoring import catalogue
    from app.ui.main_window import MainWindow

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    before = {it.path: it.score for it in window.model.items}
    window.close()

    (photo_folder / "p2.png").write_bytes((photo_folder / "p4.png").read_bytes())  # changed in place
    stored = []
    real = catalogue.record_score
    monkeypatch.setattr(catalogue, "record_score", lambda db, mv, rec: (stored.append(rec.path), real(db, mv, rec)))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    again = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=30000)
    after = {it.path: it.score for it in again.model.items}
    # Only the changed photo and the unreadable one (failed, so retried) were scored again.
    assert sorted(p.rsplit("/", 1)[1] for p in stored) == ["broken.jpg", "p2.png"]
    assert {p: s for p, s in after.items() if not p.endswith(("p2.png", "broken.jpg"))} == \
        {p: s for p, s in before.items() if not p.endswith(("p2.png", "broken.jpg"))}
    assert all(not again.model.icon(it).isNull() for it in again.model.items if it.status == "ok")
    again.close()


def test_training_panel_says_what_a_fine_tune_needs_before_anyone_starts_one(qtbot, window):
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    assert panel is not None and panel.isVisible()
    settled(qtbot, window)  # the station's state is read off the GUI thread
    text = panel.requirement.text()
    assert "needs at least" in text and "this station has 0" in text
    assert not panel.start_button.isEnabled()
    panel.close()


def test_a_fine_tune_that_cannot_run_says_why_in_one_line(exported_student, tmp_path):
    import subprocess
    import sys

    from app.core.store import open_database

    open_database(tmp_path / "empty.db").close()
    done = subprocess.run([sys.executable, "-m", "training", "finetune", "--db", str(tmp_path / "empty.db"),
                           "--base", str(exported_student[1]), "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.strip().splitlines()[-1].startswith("error: ")


def test_exports_hold_the_gallerys_photos_not_every_stored_row(qtbot, window, photo_folder, tmp_path, monkeypatch):
    import csv
    import shutil

    from PySide6.QtWidgets import QFileDialog

    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copy(photo_folder / "p1.png", earlier / "old.png")
    choose_folder_with_ctrl_o(window, monkeypatch, earlier)  # stored, then another folder is opened
    qtbot.waitUntil(lambda: len(window.model.items) == 1 and not window.is_busy(), timeout=30000)
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    out, report = tmp_path / "batch.csv", tmp_path / "batch.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    action_for(window, "Ctrl+E").trigger()
    settled(qtbot, window)
    with open(out, newline="", encoding="utf-8-sig") as f:  # the CSV starts with a BOM
        names = sorted(r["path"].rsplit("/", 1)[1] for r in csv.DictReader(f))
    assert names == sorted(it.path.rsplit("/", 1)[1] for it in window.model.items)  # not old.png
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(report), "")))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", True)))  # no lot id
    action_for(window, "Ctrl+R").trigger()
    assert window.statusBar().currentMessage().startswith("Writing report")  # the window is not held
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Wrote report"), timeout=30000)
    assert "old.png" not in report.read_text()


def test_switching_model_with_a_gallery_open_shows_the_new_models_scores(qtbot, window, photo_folder, tmp_path, monkeypatch):
    import sqlite3

    import torch
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from models import create_model
    from training.export import export_model

    torch.manual_seed(5)
    other, _ = export_model(create_model("student", weights=None).eval(), tmp_path / "other" / "tiny-b", {"version": "9.9.9"})
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    # The shift's decisions are about the photos: they hold under the new version.
    row, rejected = reject_the_first_scored_photo(qtbot, window, monkeypatch, "smudge")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), "")))
    # The switch is confirmed (what it changes), then, for a model this station has never run, the
    # supervisor is asked; "No" keeps the current one.
    answers = [QMessageBox.Yes, QMessageBox.No]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: answers.pop(0)))
    action_for(window, "Ctrl+M").trigger()
    qtbot.waitUntil(lambda: "Model refused" in window.statusBar().currentMessage(), timeout=30000)
    assert window.workspace.model.version != "9.9.9"
    answers += [QMessageBox.Yes, QMessageBox.Yes]
    action_for(window, "Ctrl+M").trigger()
    qtbot.waitUntil(lambda: window.workspace.model.version == "9.9.9", timeout=30000)  # loaded off the GUI thread
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    assert window.workspace.model.version == "9.9.9" and not answers
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        stored = dict(c.execute("select i.path, s.score from scores s join images i on i.id = s.image_id "
                                "where s.model_version_id = ? and s.status = 'ok'", (window.workspace.model_version_id,)))
        approval = c.execute("select origin, approved_by from model_versions where version = '9.9.9'").fetchone()
    assert approval[0] == "approved" and approval[1]  # who approved it, recorded
    shown = {it.path: it.score for it in window.model.items if it.status == "ok"}
    assert shown and shown == pytest.approx(stored)
    thresholds = window.panel.thresholds()
    assert all(it.verdict == thresholds.verdict(it.score) for it in window.model.items if it.status == "ok")
    settled(qtbot, window)
    assert window.model.item(rejected).decision == "rejected" and window.model.item(rejected).verdict_in_force == "fail"


def test_n_jumps_to_the_next_photo_not_yet_looked_at(qtbot, window, photo_folder, monkeypatch):
    from PySide6.QtCore import Qt

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    seen = set()
    for _ in range(window.proxy.rowCount()):
        seen.add(window.gallery.currentIndex().data(Qt.UserRole + 1))
        action_for(window, "N").trigger()
    assert len(seen) == 7  # every photo visited once, none twice
    assert window.statusBar().currentMessage() == "Every photo has been looked at"


def test_quit_from_the_menu_mid_batch_asks_and_no_keeps_the_window_and_its_work(qtbot, window, photo_folder, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    window.show()
    window.watch.setChecked(True)  # a watching batch never ends on its own
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) >= 1, timeout=20000)
    asked = []
    answer = [QMessageBox.No]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda parent, title, text, *a, **k: (asked.append(text),
                                                                                                    answer[0])[1]))
    action_for(window, "Ctrl+Q").trigger()
    assert len(asked) == 1 and "kept" in asked[0]  # what happens to the photos scored so far
    assert window.isVisible() and window.is_busy()
    answer[0] = QMessageBox.Yes
    action_for(window, "Ctrl+Q").trigger()
    assert not window.isVisible() and not window.is_busy()


def test_quit_from_the_menu_with_nothing_running_asks_nothing(qtbot, window):
    window.show()
    action_for(window, "Ctrl+Q").trigger()  # no_unanswered_questions fails the test if it asks
    assert not window.isVisible()


# --- people: signing in, roles, supervisors ------------------------------------------------------
def answer_sign_in(monkeypatch, name: str, pin: str | None = None) -> list:
    """Answer the sign-in dialog with ``name`` (and the PIN dialog with ``pin``); returns what the
    name dialog offered each time it was asked."""
    from app.ui import sign_in

    offered = []
    monkeypatch.setattr(sign_in, "ask_name", lambda parent, offer: (offered.append(offer), name)[1])
    monkeypatch.setattr(sign_in, "ask_pin", lambda parent, who, why: pin)
    return offered


def answer_supervisor(monkeypatch, name: str | None, pin: str | None = None) -> list:
    """Answer the "a supervisor is needed" dialog; returns (what was asked, the supervisors offered)."""
    from app.ui import sign_in

    asked = []

    def ask(parent, what, supervisors):
        asked.append((what, [s.name for s in supervisors]))
        return None if name is None else (name, pin)

    monkeypatch.setattr(sign_in, "ask_supervisor", ask)
    return asked


def signed_in_with_ctrl_u(qtbot, window, monkeypatch, name: str, pin: str | None = None) -> list:
    offered = answer_sign_in(monkeypatch, name, pin)
    action_for(window, "Ctrl+U").trigger()
    settled(qtbot, window)
    return offered


def test_an_operator_signs_in_rejects_a_photo_and_the_decision_and_the_export_name_them(qtbot, window, photo_folder,
                                                                                     tmp_path, monkeypatch):
    import csv

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    assert "Not signed in" in window.station_status.operator.full_text()
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    assert "first" in window.statusBar().currentMessage() and "supervisor" in window.statusBar().currentMessage()
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "B-1042")  # switching operator: one shortcut
    assert window.station_status.operator.full_text() == "B-1042 (operator)"
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    row, rejected = reject_the_first_scored_photo(qtbot, window, monkeypatch, "smudge")
    assert window.model.item(rejected).review.reviewer == "B-1042"
    assert "rejected by B-1042" in window.proxy.index(row, 0).data(Qt.ToolTipRole)
    out = tmp_path / "named.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    action_for(window, "Ctrl+E").trigger()
    settled(qtbot, window)
    with open(out, newline="", encoding="utf-8-sig") as f:
        exported = {r["path"]: r for r in csv.DictReader(f)}
    assert exported[rejected]["reviewed_by"] == "B-1042"


def test_nobody_signed_in_decisions_carry_the_os_login_and_the_window_says_so(qtbot, window, photo_folder, monkeypatch):
    from PySide6.QtCore import Qt

    from app.core.model.trust import current_user
    from app.ui.gallery import StatusRole

    assert current_user() in window.station_status.operator.full_text()
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(StatusRole) == "ok")
    window.gallery.setCurrentIndex(window.proxy.index(row, 0))
    action_for(window, "M").trigger()
    settled(qtbot, window)
    reviewer = window.model.item(window.proxy.index(row, 0).data(Qt.UserRole + 1)).review.reviewer
    assert reviewer.startswith(current_user()) and "not signed in" in reviewer


def test_an_operator_who_is_not_a_supervisor_is_asked_for_one_before_saving_thresholds_and_a_wrong_pin_changes_nothing(
        qtbot, window, tmp_path, monkeypatch):
    import sqlite3

    from PySide6.QtWidgets import QPushButton

    from app.core.site.operators import set_pin, sign_in

    sign_in(window.workspace.db, "Ana")  # the station's supervisor, with a PIN
    set_pin(window.workspace.db, "Ana", "4711")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")
    save = next(b for b in window.panel.findChildren(QPushButton) if b.text() == "Save profile")
    window.panel.profile.setText("night shift")
    window.panel.pass_slider.setValue(80)

    def stored_profiles():
        with sqlite3.connect(tmp_path / "inspector.db") as c:
            return c.execute("select name, pass_at, changed_by from threshold_profiles").fetchall()

    asked = answer_supervisor(monkeypatch, None)  # the dialog cancelled
    save.click()
    settled(qtbot, window)
    assert asked == [("save threshold profile 'night shift'", ["Ana"])]
    assert stored_profiles() == [] and "Not saved" in window.statusBar().currentMessage()
    answer_supervisor(monkeypatch, "Ana", "0000")  # a wrong PIN
    save.click()
    settled(qtbot, window)
    message = window.statusBar().currentMessage()
    assert stored_profiles() == [] and message.startswith("Not saved") and "wrong PIN" in message
    assert window.workspace.thresholds.pass_at != 80
    answer_supervisor(monkeypatch, "Ana", "4711")
    save.click()
    settled(qtbot, window)
    assert stored_profiles() == [("night shift", 80.0, "Ana")]
    assert window.station_status.profile.text().startswith("Thresholds: night shift")
    assert window.station_status.operator.full_text() == "Ben (operator)"  # still Ben at the station


def test_a_supervisor_signed_in_saves_thresholds_without_being_asked_and_is_recorded(qtbot, window, tmp_path,
                                                                                     monkeypatch):
    import sqlite3

    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")  # the first: a supervisor
    asked = answer_supervisor(monkeypatch, None)
    window.panel.save_requested.emit(window.panel.thresholds(), "day shift")
    settled(qtbot, window)
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select name, changed_by from threshold_profiles").fetchall() == [("day shift", "Ana")]
    assert not asked


def test_the_last_operator_and_the_profile_in_force_are_shown_again_after_a_relaunch(qtbot, window, exported_student, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow
    from tests.gui.conftest import model_loaded

    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    window.panel.save_requested.emit(window.panel.thresholds(), "day shift")
    settled(qtbot, window)
    window.close()
    again = MainWindow(exported_student[1], tmp_path / "inspector.db",
                       QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    model_loaded(qtbot, again)
    assert "Ana" in again.station_status.operator.full_text() and "Not signed in" in again.station_status.operator.full_text()
    assert again.station_status.profile.text().startswith("Thresholds: day shift")  # the profile in force, by name
    assert again.panel.profile.text() == "day shift"  # a Save after moving a slider updates it, not "default"
    offered = answer_sign_in(monkeypatch, "Ana")
    again.station_status.operator.click()  # the status bar's sign-in label
    settled(qtbot, again)
    assert offered == ["Ana"] and again.station_status.operator.full_text() == "Ana (supervisor)"
    again.close()


def test_a_supervisor_sets_a_pin_and_makes_another_operator_a_supervisor(qtbot, window, monkeypatch):
    from app.core.site.operators import operators
    from app.ui import sign_in

    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana")
    monkeypatch.setattr(sign_in, "ask_new_pin", lambda parent, who: "4711")
    action_for(window, "Ctrl+Shift+P").trigger()
    settled(qtbot, window)
    assert "PIN" in window.statusBar().currentMessage()
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")
    asked = answer_supervisor(monkeypatch, "Ana", "4711")
    monkeypatch.setattr(sign_in, "ask_role", lambda parent, people: ("Ben", "supervisor"))
    action_for(window, "Ctrl+Shift+U").trigger()
    settled(qtbot, window)
    assert asked and {o.name: o.role for o in operators(window.workspace.db)} == {"Ana": "supervisor",
                                                                                  "Ben": "supervisor"}
    assert window.station_status.operator.full_text() == "Ben (supervisor)"  # Ben's own role, shown at once
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana", pin="0000")  # Ana has a PIN now: a wrong one
    assert window.station_status.operator.full_text() == "Ben (supervisor)"
    assert "wrong PIN" in window.statusBar().currentMessage()
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ana", pin="4711")
    assert window.station_status.operator.full_text() == "Ana (supervisor)"


def test_switching_the_model_version_asks_for_a_supervisor_and_records_who_chose_it(qtbot, window, exported_student,
                                                                                   tmp_path, monkeypatch):
    import sqlite3

    from PySide6.QtWidgets import QFileDialog

    from app.core.site.operators import sign_in

    sign_in(window.workspace.db, "Ana")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")
    model = window.workspace.model
    assert window.station_status.model.text() == f"Model: {model.name} v{model.version}"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(exported_student[1]), "")))
    asked = answer_supervisor(monkeypatch, "Ana", None)
    action_for(window, "Ctrl+M").trigger()
    settled(qtbot, window)
    assert asked and asked[0][0].startswith("switch the model version")
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select chosen_by from model_versions where active = 1").fetchone() == ("Ana",)


def test_an_operator_is_asked_for_a_supervisor_before_fine_tuning_or_calibrating_and_a_refusal_changes_nothing(
        qtbot, window, tmp_path, monkeypatch):
    import sqlite3

    from app.core.site.operators import set_pin, sign_in

    sign_in(window.workspace.db, "Ana")
    set_pin(window.workspace.db, "Ana", "4711")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")
    action_for(window, "Ctrl+T").trigger()
    panel = window.training
    settled(qtbot, window)
    started = []
    monkeypatch.setattr(panel, "start", lambda: started.append(True))  # no training run in this test
    panel.start_button.setEnabled(True)  # as at a station with enough rated photos
    asked = answer_supervisor(monkeypatch, "Ana", "0000")
    panel.start_button.click()
    settled(qtbot, window)
    message = window.statusBar().currentMessage()
    assert asked == [("start a fine-tune", ["Ana"])] and not started
    assert message.startswith("Not started") and "wrong PIN" in message
    answer_supervisor(monkeypatch, "Ana", "4711")
    panel.start_button.click()
    settled(qtbot, window)
    assert started == [True]
    panel.calibration_remove_requested.emit()  # the Remove button
    settled(qtbot, window)
    assert window.statusBar().currentMessage().startswith("Removed site calibration")
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select calibrated_by from model_versions where id = ?",
                         (window.workspace.model_version_id,)).fetchone() == ("Ana",)
    panel.close()


def test_a_supervisor_confirming_a_switch_to_an_unknown_model_is_recorded_as_its_approver_and_asked_once(
        qtbot, window, tmp_path, monkeypatch):
    import sqlite3

    import torch
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from app.core.site.operators import set_pin, sign_in
    from models import create_model
    from training.export import export_model

    torch.manual_seed(7)
    other, _ = export_model(create_model("student", weights=None).eval(), tmp_path / "other" / "tiny-c", {"version": "9.9.8"})
    sign_in(window.workspace.db, "Ana")
    set_pin(window.workspace.db, "Ana", "4711")
    signed_in_with_ctrl_u(qtbot, window, monkeypatch, "Ben")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(other), "")))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    asked = answer_supervisor(monkeypatch, "Ana", "4711")
    action_for(window, "Ctrl+M").trigger()
    qtbot.waitUntil(lambda: window.workspace.model.version == "9.9.8", timeout=30000)
    assert len(asked) == 1  # the switch's supervisor approves the model too: not asked twice
    assert window.station_status.model.text().endswith("v9.9.8")
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        assert c.execute("select origin, approved_by, chosen_by from model_versions where version = '9.9.8'"
                         ).fetchone() == ("approved", "Ana", "Ana")


# Every shortcut in the window's menus, and the test above that presses it. A new action with
# no test here fails the check below.
EXERCISED = {
    "Ctrl+Z": "test_a_decision_is_undone_with_ctrl_z_and_redone_with_ctrl_shift_z_every_step_kept_on_record",
    "Ctrl+Shift+Z": "test_a_decision_is_undone_with_ctrl_z_and_redone_with_ctrl_shift_z_every_step_kept_on_record",
    "Ctrl+Shift+T": "test_a_closed_thresholds_panel_comes_back_from_the_view_menu",
    "Ctrl+O": "test_switching_folder_mid_batch_shows_only_the_new_folder",
    # The camera's batch beside the folder's (tests/gui/test_camera.py)
    "Ctrl+K": "test_camera.test_the_camera_from_its_menu_shows_a_live_preview_and_space_captures_into_its_own_batch_beside_the_folders",
    "Space": "test_camera.test_the_camera_from_its_menu_shows_a_live_preview_and_space_captures_into_its_own_batch_beside_the_folders",
    "Alt+1": "test_camera.test_the_camera_from_its_menu_shows_a_live_preview_and_space_captures_into_its_own_batch_beside_the_folders",
    "Alt+2": "test_camera.test_the_camera_from_its_menu_shows_a_live_preview_and_space_captures_into_its_own_batch_beside_the_folders",
    "Ctrl+M": "test_switching_model_with_a_gallery_open_shows_the_new_models_scores",
    "Ctrl+E": "test_exports_hold_the_gallerys_photos_not_every_stored_row",
    "Ctrl+R": "test_exports_hold_the_gallerys_photos_not_every_stored_row",
    "Ctrl+Q": "test_quit_from_the_menu_mid_batch_asks_and_no_keeps_the_window_and_its_work",
    "Ctrl+L": "test_rating_from_the_menu_opens_the_labeling_panel",
    "Ctrl+T": "test_training_panel_says_what_a_fine_tune_needs_before_anyone_starts_one",
    # Help (tests/gui/test_help_menu.py); an entry without a shortcut is named by its text.
    "F1": "test_help_menu.py::test_f1_lists_every_shortcut_the_menus_define_and_one_added_later",
    "&About MobileIQA Inspector":
        "test_help_menu.py::test_about_names_the_program_the_model_in_force_its_credits_the_versions_and_licences",
    "N": "test_n_jumps_to_the_next_photo_not_yet_looked_at",
    "A": "test_overriding_a_verdict_is_stored_shown_exported_and_survives_a_relaunch",
    "X": "test_overriding_a_verdict_is_stored_shown_exported_and_survives_a_relaunch",
    "M": "test_overriding_a_verdict_is_stored_shown_exported_and_survives_a_relaunch",
    "Ctrl+U": "test_an_operator_signs_in_rejects_a_photo_and_the_decision_and_the_export_name_them",
    "Ctrl+Shift+P": "test_a_supervisor_sets_a_pin_and_makes_another_operator_a_supervisor",
    "Ctrl+Shift+U": "test_a_supervisor_sets_a_pin_and_makes_another_operator_a_supervisor",
    "Ctrl+Shift+R": "test_reason_codes.test_a_supervisor_changes_the_sites_reason_codes_and_every_station_offers_them",
    # module.test: a test of another file in tests/gui
    "Ctrl+Shift+E": "test_station_panels.test_the_exif_panel_shows_iso_and_shutter_first_says_when_there_is_none_and_is_remembered",
    "Ctrl+Shift+L": "test_station_panels.test_errors_and_warnings_the_status_bar_said_are_listed_with_their_time",
    # View: zoom, compare, the loupe (tests/gui/test_compare_and_loupe.py)
    "+": "test_compare_and_loupe.test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other",
    "-": "test_compare_and_loupe.test_minus_zooms_out_the_single_viewer_and_ctrl_0_fits_it_again",
    "Ctrl+0": "test_compare_and_loupe.test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other",
    "Ctrl+1": "test_compare_and_loupe.test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other",
    "C": "test_compare_and_loupe.test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other",
    "Esc": "test_compare_and_loupe.test_c_on_two_selected_photos_shows_them_side_by_side_and_zooming_one_zooms_the_other",
    "L": "test_compare_and_loupe.test_l_shows_the_photos_own_pixels_under_the_cursor_while_the_viewer_fits_the_photo",
}


def _defined(name: str) -> bool:
    """``test_x`` here, or ``module.test_x`` / ``module.py::test_x`` in another file of tests/gui."""
    import importlib

    module, _, test = name.replace(".py::", ".").rpartition(".")
    return hasattr(importlib.import_module(f"tests.gui.{module}"), test) if module else name in globals()


def test_every_menu_action_is_exercised_by_a_user_action_test(window):
    from PySide6.QtGui import QKeySequence

    from tests.gui import test_gallery_user_actions as gallery  # the gallery's keys are tested there

    menus = window.menuBar().actions()
    in_menus = {a.shortcut().toString(QKeySequence.PortableText) or a.text() for m in menus
                for a in m.menu().actions() if not a.isSeparator()}
    untested = in_menus - set(EXERCISED) - set(gallery.EXERCISED)
    assert not untested, f"menu actions without a user-action test: {sorted(untested)}"
    assert all(_defined(name) for name in EXERCISED.values())
    assert all(callable(getattr(gallery, name, None)) for name in gallery.EXERCISED.values())


def test_the_viewer_tells_the_photos_details_and_each_overlays_scale(qtbot, window, tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from app.ui.viewer import DISTORTION, NONE

    folder = tmp_path / "exif"
    folder.mkdir()
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Acme", "Acme Phone 7", "2026:11:30 10:15:00"
    img.save(folder / "site.jpg", exif=exif)
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.viewer.outcome is not None and window.viewer.native is not None, timeout=30000)
    details = window.viewer.details.text()
    assert "site.jpg" in details and "800×600" in details and "Acme Phone 7" in details
    assert "2026-11-30 10:15:00" in details  # as the EXIF panel says it, not EXIF's raw "2026:11:30"
    window.viewer.overlay_box.setCurrentText(DISTORTION)
    assert window.viewer.legend.pixmap() is not None and not window.viewer.legend.pixmap().isNull()
    window.viewer.overlay_box.setCurrentText(NONE)
    assert window.viewer.legend.pixmap() is None or window.viewer.legend.pixmap().isNull()
    window.viewer.view.actual_size()
    assert window.viewer.zoom_label.text() == "100%"


def test_the_status_bar_counts_photos_and_says_how_long_is_left(qtbot, window, photo_folder, monkeypatch):
    from app.ui.batch_jobs import progress_text

    assert progress_text(12, 52, 4.8) == "12/52 · 0.4 s per photo · about 16 s left"
    assert progress_text(0, 52, 0.0) == "0/52"
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    assert window.progress.format().startswith("Done: 7 photos in ")  # ended: the count and the time it took


def test_overriding_a_verdict_is_stored_shown_exported_and_survives_a_relaunch(qtbot, window, photo_folder, tmp_path,
                                                                            exported_student, monkeypatch):
    import csv

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QFileDialog

    from app.ui.main_window import MainWindow

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    rows = {window.proxy.index(r, 0).data(Qt.UserRole + 1).rsplit("/", 1)[1]: r for r in range(window.proxy.rowCount())}
    answer_reason(monkeypatch, "scratch on the lens", "customer accepts")
    for name, keys in (("p1.png", "X"), ("p4.png", "A"), ("p2.png", "M")):
        window.gallery.setCurrentIndex(window.proxy.index(rows[name], 0))
        action_for(window, keys).trigger()
    settled(qtbot, window)  # decisions are stored off the GUI thread, then shown
    label = window.proxy.index(rows["p1.png"], 0).data(Qt.DisplayRole)
    assert "✗" in label and "p1.png" in label
    assert "rejected by" in window.proxy.index(rows["p1.png"], 0).data(Qt.ToolTipRole)
    assert "scratch on the lens" in window.proxy.index(rows["p1.png"], 0).data(Qt.ToolTipRole)
    window.filter_box.setCurrentText("overridden")
    assert window.proxy.rowCount() == 2
    window.filter_box.setCurrentText("reviewed")
    assert window.proxy.rowCount() == 3
    out = tmp_path / "reviewed.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    action_for(window, "Ctrl+E").trigger()
    settled(qtbot, window)
    with open(out, newline="", encoding="utf-8-sig") as f:  # the CSV starts with a BOM
        exported = {r["path"].rsplit("/", 1)[1]: r for r in csv.DictReader(f)}
    assert exported["p1.png"]["review"] == "rejected" and exported["p1.png"]["review_reason"] == "scratch on the lens"
    assert exported["p4.png"]["review"] == "accepted" and exported["p2.png"]["review"] == "reviewed"
    assert exported["p1.png"]["reviewed_by"] and exported["p1.png"]["reviewed_at"]
    window.close()

    again = MainWindow(exported_student[1], tmp_path / "inspector.db", QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=30000)
    settled(qtbot, again)
    assert again.model.item(str(photo_folder / "p1.png")).review.decision == "rejected"
    again.close()


@pytest.mark.parametrize("damage, status", [("cut_off", "TRUNCATED"), ("early_end_marker", "DAMAGED")])
def test_a_cut_off_or_damaged_photo_shows_what_decodes_with_its_status(qtbot, window, tmp_path, monkeypatch,
                                                                       damage, status):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "cut"
    folder.mkdir()
    whole = folder / "whole.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (400, 600, 3), dtype=np.uint8)).save(whole)
    data = whole.read_bytes()
    half = data[: len(data) // 2]
    (folder / f"{damage}.jpg").write_bytes(half if damage == "cut_off" else half + b"\xff\xd9")
    whole.unlink()
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: window.viewer.outcome is not None and not window.is_busy(), timeout=30000)
    assert window.viewer.info.text().startswith(status)
    assert window.model.items[0].verdict is None  # never passed automatically
    shown = window.viewer.composed()
    assert shown is not None and shown.shape == (400, 600, 3)  # the top half decoded, the rest grey


@pytest.mark.skipif(__import__("sys").platform != "linux", reason="file names of arbitrary bytes are a Linux thing")
def test_a_folder_with_a_non_utf8_file_name_is_scored_and_the_name_listed(qtbot, window, photo_folder, monkeypatch):
    import os
    import shutil

    shutil.copy(photo_folder / "p0.png", os.fsdecode(bytes(photo_folder) + b"/caf\xe9.png"))
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 8 and not window.is_busy(), timeout=30000)
    bad = [it for it in window.model.items if it.status == "bad_name"]
    assert len(bad) == 1 and "rename the file" in bad[0].error
    assert window.statusBar().currentMessage().startswith("Done: 8 photos")


def test_reopening_a_scored_folder_shows_stored_thumbnails_without_decoding_the_photos(
        qtbot, window, photo_folder, exported_student, tmp_path, monkeypatch):
    import sqlite3

    from PySide6.QtCore import QSettings

    from app.core.scoring import catalogue
    from app.ui.main_window import MainWindow

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.close()
    (photo_folder / "p2.png").write_bytes((photo_folder / "p4.png").read_bytes())  # changed: scored and drawn anew
    decoded = []
    real = catalogue.load_preview_rgb
    monkeypatch.setattr(catalogue, "load_preview_rgb", lambda path, data, *a: (decoded.append(path), real(path, data, *a))[1])
    again = MainWindow(exported_student[1], tmp_path / "inspector.db",
                       QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: len(again.model.items) == 7 and not again.is_busy(), timeout=30000)
    assert decoded == []  # a 12 MP JPEG's preview costs ~70 ms: 50 of them held the gallery 3.5 s
    assert all(not again.model.icon(it).isNull() for it in again.model.items if it.status == "ok")
    with sqlite3.connect(tmp_path / "inspector.db") as c:
        rows = c.execute("select i.path, t.content_hash = i.content_hash from thumbnails t "
                         "join images i on i.id = t.image_id").fetchall()
    assert len(rows) == 6 and all(current for _, current in rows)  # one each, of the content on disk
    again.close()


def test_opening_a_folder_while_the_model_still_loads_scores_it_once_the_model_is_in(
        qtbot, exported_student, photo_folder, tmp_path, monkeypatch):
    """Right after launch the model loads off the GUI thread; a folder chosen then waits for it
    (said in the status bar) instead of a "load a model first" box for a model that is loading."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from app.ui.main_window import MainWindow

    boxes = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: boxes.append(a[1:3])))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(w)
    assert w.workspace.engine is None, "the test must open the folder before the model is in"
    choose_folder_with_ctrl_o(w, monkeypatch, photo_folder)
    said = w.statusBar().currentMessage()
    assert "still loading" in said and str(photo_folder) in said, said
    qtbot.waitUntil(lambda: len(w.model.items) == 7 and not w.is_busy(), timeout=30000)
    assert boxes == []
    assert sum(it.status == "ok" for it in w.model.items) == 6
    w.close()


def test_a_camera_chosen_while_the_model_loads_starts_once_it_is_in(qtbot, exported_student, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    from app.ui.main_window import MainWindow

    boxes = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: boxes.append(a[1:3])))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    w = MainWindow(exported_student[1], tmp_path / "inspector.db", settings)
    qtbot.addWidget(w)
    w.camera_controller.open_camera(str(tmp_path / "missing.mp4"))
    assert not w.camera.running and "still loading" in w.statusBar().currentMessage()
    # Once the model is in, the camera starts: here a file that is not there, so it is not found.
    qtbot.waitUntil(lambda: "not found" in w.camera_panel.state.text(), timeout=30000)
    assert w.batches.shown == "camera" and boxes == []
    w.close()


def test_a_rejected_or_accepted_photo_shows_counts_and_filters_as_the_inspectors_verdict(qtbot, window, photo_folder,
                                                                                       monkeypatch):
    """The decision in force is the verdict people see: the cell's text and colour, the counts,
    the filters and the viewer's caption; the model's own verdict is kept in the tooltip."""
    from PySide6.QtCore import Qt

    from app.core.verdict import Thresholds
    from app.ui.gallery import VERDICT_COLOURS

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    # Thresholds that make every scored photo REVIEW: the decisions alone move them.
    window.panel.set_thresholds(Thresholds(pass_at=100, fail_below=0))
    window.profiles.preview(window.panel.thresholds())
    assert window.panel.counts.text().split() == ["pass", "0", "review", "6", "fail", "0"]
    rows = {window.proxy.index(r, 0).data(Qt.UserRole + 1).rsplit("/", 1)[1]: r for r in range(window.proxy.rowCount())}
    answer_reason(monkeypatch, "scratch on the lens", "scratch on the lens")
    for name, keys in (("p1.png", "X"), ("p4.png", "A")):
        window.gallery.setCurrentIndex(window.proxy.index(rows[name], 0))
        action_for(window, keys).trigger()
    settled(qtbot, window)
    rejected = window.proxy.index(rows["p1.png"], 0)
    assert " FAIL" in rejected.data(Qt.DisplayRole) and "REVIEW" not in rejected.data(Qt.DisplayRole)
    assert rejected.data(Qt.BackgroundRole) == VERDICT_COLOURS["fail"]
    assert "the model said REVIEW" in rejected.data(Qt.ToolTipRole)
    assert " PASS" in window.proxy.index(rows["p4.png"], 0).data(Qt.DisplayRole)
    assert window.panel.counts.text().split() == ["pass", "1", "review", "4", "fail", "1"]
    window.filter_box.setCurrentText("fail")
    assert [window.proxy.index(r, 0).data(Qt.UserRole + 1).rsplit("/", 1)[1]
            for r in range(window.proxy.rowCount())] == ["p1.png"]
    window.filter_box.setCurrentText("all")
    window.gallery.setCurrentIndex(window.proxy.index(rows["p1.png"], 0))
    qtbot.waitUntil(lambda: window.viewer.outcome is not None and window.viewer.outcome.record.path.endswith("p1.png"),
                    timeout=20000)
    assert "FAIL (rejected by" in window.viewer.info.text() and "scratch on the lens" in window.viewer.info.text()


def test_a_small_photo_is_never_enlarged_at_fit_and_a_large_one_refits_when_the_window_grows(qtbot, window, tmp_path,
                                                                                          monkeypatch, make_photos):
    from PySide6.QtCore import Qt

    folder = tmp_path / "sizes"
    make_photos(folder, sizes=[(120, 160), (2000, 3000)], name=["small.png", "large.jpg"], seed=1)
    window.resize(1200, 800)
    window.show()
    choose_folder_with_ctrl_o(window, monkeypatch, folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 2 and not window.is_busy(), timeout=30000)
    rows = {window.proxy.index(r, 0).data(Qt.UserRole + 1).rsplit("/", 1)[1]: r for r in range(window.proxy.rowCount())}

    def show(name):
        window.gallery.setCurrentIndex(window.proxy.index(rows[name], 0))
        qtbot.waitUntil(lambda: window.viewer.outcome is not None
                        and window.viewer.outcome.record.path.endswith(name), timeout=20000)

    show("small.png")
    assert window.viewer.view.zoom == 1.0 and window.viewer.zoom_label.text() == "100%"
    show("large.jpg")
    before = window.viewer.view.zoom
    assert before < 1.0
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: window.viewer.view.zoom > before * 1.1, timeout=5000)


def test_the_next_photo_is_decoded_while_the_inspector_looks_and_shows_at_once_on_the_next_key(
        qtbot, window, photo_folder, monkeypatch):
    """While a photo is looked at, the next one in the gallery's order is decoded and scored in
    the background; stepping to it shows it without decoding it again."""
    from PySide6.QtCore import Qt

    from app.ui import viewer_jobs

    decoded = []
    real = viewer_jobs.score_photo
    monkeypatch.setattr(viewer_jobs, "score_photo", lambda engine, path: (decoded.append(path.name), real(engine, path))[1])
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    window.sort_box.setCurrentText("name")
    names = [window.proxy.index(r, 0).data(Qt.UserRole + 1).rsplit("/", 1)[1] for r in range(window.proxy.rowCount())]
    first = names.index("p1.png")
    window.gallery.setCurrentIndex(window.proxy.index(first, 0))
    qtbot.waitUntil(lambda: names[first + 1] in decoded, timeout=20000)  # prefetched while p1 is shown
    assert window.navigation.viewer_jobs.wait(10000)
    qtbot.keyClick(window.viewer, Qt.Key_Right)  # the → key in the viewer
    qtbot.waitUntil(lambda: window.viewer.outcome is not None
                    and window.viewer.outcome.record.path.endswith(names[first + 1]), timeout=20000)
    assert decoded.count(names[first + 1]) == 1


def test_options_filter_sort_and_the_selected_photo_are_remembered_across_a_relaunch(
        qtbot, window, photo_folder, exported_student, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings, Qt

    from app.ui.main_window import MainWindow

    (photo_folder / "sub").mkdir()
    (photo_folder / "sub" / "deep.png").write_bytes((photo_folder / "p0.png").read_bytes())
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.show()
    qtbot.mouseClick(window.recursive, Qt.LeftButton)  # takes effect now: the folder is read again with its sub-folders
    qtbot.waitUntil(lambda: len(window.model.items) == 8 and not window.is_busy(), timeout=30000)
    window.sort_box.setCurrentText("name")
    window.filter_box.setCurrentText("all")
    qtbot.mouseClick(window.descending, Qt.LeftButton)
    chosen = next(r for r in range(window.proxy.rowCount())
                  if window.proxy.index(r, 0).data(Qt.UserRole + 1).endswith("p3.png"))
    window.gallery.setCurrentIndex(window.proxy.index(chosen, 0))
    settled(qtbot, window)
    window.close()

    again = MainWindow(exported_student[1], tmp_path / "inspector.db", QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: len(again.model.items) == 8 and not again.is_busy(), timeout=30000)
    assert again.recursive.isChecked() and not again.watch.isChecked()
    assert (again.sort_box.currentText(), again.filter_box.currentText(), again.descending.isChecked()) == \
        ("name", "all", True)
    qtbot.waitUntil(lambda: again.gallery.currentIndex().isValid(), timeout=10000)
    assert again.gallery.currentIndex().data(Qt.UserRole + 1).endswith("p3.png")
    again.close()


def test_a_closed_thresholds_panel_comes_back_from_the_view_menu(qtbot, window):
    window.show()
    window.thresholds_dock.close()
    qtbot.waitUntil(lambda: not window.thresholds_dock.isVisible(), timeout=5000)
    action_for(window, "Ctrl+Shift+T").trigger()
    qtbot.waitUntil(lambda: window.thresholds_dock.isVisible(), timeout=5000)


def test_a_decision_is_undone_with_ctrl_z_and_redone_with_ctrl_shift_z_every_step_kept_on_record(
        qtbot, window, photo_folder, tmp_path, monkeypatch):
    import sqlite3

    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    _, path = reject_the_first_scored_photo(qtbot, window, monkeypatch, "smudge")
    answer_reason(monkeypatch, "fine after all")
    action_for(window, "A").trigger()  # a change of mind on the same photo
    settled(qtbot, window)
    assert window.model.item(path).decision == "accepted"
    action_for(window, "Ctrl+Z").trigger()
    settled(qtbot, window)
    assert window.model.item(path).decision == "rejected" and window.model.item(path).review.reason == "smudge"
    action_for(window, "Ctrl+Z").trigger()
    settled(qtbot, window)
    assert window.model.item(path).review is None and window.model.item(path).verdict_in_force == \
        window.model.item(path).verdict
    assert "nothing" in (action_for(window, "Ctrl+Z").trigger() or window.statusBar().currentMessage()).lower()
    action_for(window, "Ctrl+Shift+Z").trigger()
    settled(qtbot, window)
    assert window.model.item(path).decision == "rejected"
    with sqlite3.connect(tmp_path / "inspector.db") as c:  # append-only: every step is on record
        decisions = [d for (d,) in c.execute("select decision from reviews order by id")]
    assert decisions == ["rejected", "accepted", "rejected", "cleared", "rejected"]


def test_the_viewers_map_cache_keeps_only_the_newest_maps(qtbot, window, photo_folder, monkeypatch):
    """Stepping through a long batch must not keep every photo's maps for the whole shift."""
    from PySide6.QtCore import Qt

    from app.ui import viewer_jobs

    monkeypatch.setattr(viewer_jobs, "CACHED_MAPS", 2)
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.sort_box.setCurrentText("name")
    window.filter_box.setCurrentText("all")
    ok = [r for r in range(window.proxy.rowCount()) if window.proxy.index(r, 0).data(Qt.UserRole + 4) == "ok"][:3]
    for r in ok:  # three photos looked at until mapped
        window.gallery.setCurrentIndex(window.proxy.index(r, 0))
        qtbot.waitUntil(lambda: window.viewer.native is not None
                        and window.navigation.is_current(window.viewer.outcome.record.path), timeout=20000)
        assert window.navigation.viewer_jobs.wait(10000)
    assert window.navigation.viewer_jobs.cached_maps == 2
    started = window.navigation.viewer_jobs.runs
    window.gallery.setCurrentIndex(window.proxy.index(ok[0], 0))  # let go from memory: read again
    qtbot.waitUntil(lambda: window.viewer.native is not None, timeout=20000)
    assert window.navigation.viewer_jobs.runs == started + 1


def test_a_filter_that_shows_no_photo_leaves_the_viewer_empty(qtbot, window, photo_folder, monkeypatch):
    choose_folder_with_ctrl_o(window, monkeypatch, photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    window.filter_box.setCurrentText("all")
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    qtbot.waitUntil(lambda: window.viewer.outcome is not None, timeout=20000)
    window.filter_box.setCurrentText("overridden")  # nobody has overridden anything yet
    assert window.proxy.rowCount() == 0
    assert window.viewer.outcome is None and window.viewer.info.text() == "Select a photo"
