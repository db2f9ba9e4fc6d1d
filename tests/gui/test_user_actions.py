"""What a person touches: menu actions and shortcut keys on the real window, dialogs answered."""
import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog

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


def test_rating_from_the_menu_opens_the_labeling_panel(qtbot, window, photo_folder, monkeypatch):
    window.open_folder(photo_folder)
    qtbot.waitUntil(lambda: len(window.model.items) == 7 and not window.is_busy(), timeout=30000)
    asked = answer_item_dialog(monkeypatch, "The photos in the gallery")
    action_for(window, "Ctrl+L").trigger()  # triggered(checked=False) must not become the choice
    assert asked, "the window should ask which photos to rate"
    assert window.labeling is not None and window.labeling.isVisible()
    assert len(window.labeling.photos) == 6
    window.labeling.close()
