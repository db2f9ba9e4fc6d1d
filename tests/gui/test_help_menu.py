"""Help at the real window: F1's shortcuts sheet (read off the menus, so a new menu entry is
listed without anyone editing a list) and About (program, the model in force with its card's
credits, Python / Qt / ONNX Runtime versions, the components' licences)."""
import json
import platform
import shutil

import pytest
from PySide6.QtCore import QSettings, qVersion
from PySide6.QtGui import QAction, QKeySequence

from tests.gui.conftest import model_loaded, settled
from tests.gui.test_user_actions import action_for

pytestmark = pytest.mark.gui


def menu_shortcuts(window) -> set[str]:
    """Every shortcut the window's menus define, walked here independently of the sheet."""
    return {k.toString(QKeySequence.NativeText) for top in window.menuBar().actions() if top.menu()
            for a in top.menu().actions() if not a.isSeparator() for k in a.shortcuts()}


def help_action(window, text: str) -> QAction:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def test_f1_lists_every_shortcut_the_menus_define_and_one_added_later(qtbot, window):
    from app.ui.help_dialogs import ShortcutsSheet

    action_for(window, "F1").trigger()
    sheet = window.findChild(ShortcutsSheet)
    assert sheet is not None and sheet.isVisible()
    rows = sheet.rows()
    listed = {key for keys, _what, _where in rows for key in keys.split(" or ")}  # "Ctrl++ or Ctrl+=": both
    assert menu_shortcuts(window) <= listed and "F1" in listed
    assert ("Ctrl+L", "Rate these photos", "Ratings") in rows  # mnemonics and the ellipsis gone
    assert ("Ctrl+Shift+T", "Thresholds panel", "View") in rows  # the dock's own toggle, too
    # The labeling panel's keys, from that panel's constants.
    panel_rows = {keys: what for keys, what, where in rows if where == "Labeling panel"}
    assert panel_rows["S"].startswith("Skip") and panel_rows["5"] == "Vote 5: Excellent" and "F1" in panel_rows
    sheet.close()

    # A menu entry added later (another engineer's) is on the sheet without a list to edit.
    extra = QAction("&Compare two photos", window)
    extra.setShortcut("Ctrl+Alt+J")
    window.menuBar().actions()[0].menu().addAction(extra)
    action_for(window, "F1").trigger()
    shown = [s for s in window.findChildren(ShortcutsSheet) if s.isVisible()]
    assert len(shown) == 1  # one sheet at a time: the old one closed
    assert ("Ctrl+Alt+J", "Compare two photos", "File") in shown[0].rows()
    shown[0].close()


@pytest.fixture
def credited_window(qtbot, exported_student, tmp_path):
    """A window whose model card carries data credits (a descriptive field: the same trusted model)."""
    from app.ui.main_window import MainWindow

    _model, onnx, card_path = exported_student
    folder = tmp_path / "credited"
    folder.mkdir()
    for f in onnx.parent.glob(onnx.stem + "*"):
        shutil.copy(f, folder / f.name)
    card = json.loads(card_path.read_text())
    card["credits"] = "Trained on the LIVE In the Wild Challenge Database (Ghadiyaram & Bovik, IEEE TIP 2016)."
    (folder / card_path.name).write_text(json.dumps(card))
    w = MainWindow(folder / onnx.name, tmp_path / "inspector.db", QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(w)
    model_loaded(qtbot, w)
    yield w
    w.cancel()


def test_about_names_the_program_the_model_in_force_its_credits_the_versions_and_licences(qtbot, credited_window):
    import onnxruntime

    from app import __version__
    from app.ui.help_dialogs import AboutBox, about_text

    w = credited_window
    help_action(w, "About MobileIQA Inspector").trigger()
    qtbot.waitUntil(lambda: w.findChild(AboutBox) is not None and w.findChild(AboutBox).isVisible(), timeout=10000)
    settled(qtbot, w)
    box = w.findChild(AboutBox)
    shown = box.text.text()
    card = w.workspace.model.card
    for expected in (f"MobileIQA Inspector {__version__}", card["name"], str(card["version"]),
                     "Ghadiyaram &amp; Bovik", platform.python_version(), qVersion(), onnxruntime.__version__,
                     "LGPL-3.0-only", "onnxruntime", "MIT"):
        assert expected in shown, expected
    text = about_text(box.facts)  # what Copy puts on the clipboard
    assert f"Version: {card['version']}" in text and "Data credits: Trained on the LIVE" in text
    assert [c.name.lower().replace("_", "-") for c in box.facts.components][:2] == ["numpy", "onnxruntime"]
    box.close()
