"""The question an inspector answers when accepting or rejecting a photo: which of the site's
reason codes, and a note (needed for "other", whose meaning it is). One function returning the
answer (None: cancelled), so the flow in app.ui.batch_outputs reads straight and tests answer it
by replacing the function. No I/O: the decision is stored off the GUI thread, after."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from ..core.outputs.reason_codes import OTHER


class ReasonDialog(QDialog):
    def __init__(self, parent: QWidget | None, decision: str, codes: tuple[str, ...]):
        super().__init__(parent)
        self.setWindowTitle("Override the verdict")
        self.code = QComboBox()
        self.code.addItems(list(codes))
        self.note = QLineEdit()
        self.note.setMinimumWidth(260)  # room for its hint and a short note
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.code.currentTextChanged.connect(self._note_needed)
        self.note.textChanged.connect(self._note_needed)
        form = QFormLayout(self)
        form.addRow(f"Why is it {decision}?", self.code)
        form.addRow("Note", self.note)
        form.addRow(self.buttons)
        self._note_needed()

    def _note_needed(self, *_args) -> None:
        # "other" says nothing by itself: OK waits for the note that says what.
        other = self.code.currentText() == OTHER
        self.note.setPlaceholderText("what it is (needed for other)" if other else "optional")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(not other or bool(self.note.text().strip()))

    def answer(self) -> tuple[str, str]:
        return self.code.currentText(), self.note.text().strip()


def ask_reason(parent: QWidget, decision: str, codes: tuple[str, ...]) -> tuple[str, str] | None:
    """(the code, the note) for ``decision`` (accepted / rejected); None when cancelled."""
    dialog = ReasonDialog(parent, decision, codes)
    return dialog.answer() if dialog.exec() == QDialog.Accepted else None
