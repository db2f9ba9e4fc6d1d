"""The dialogs that ask who is at the station: a name or badge id, a PIN, a supervisor to confirm
an action, an operator's role. Each is one function that returns the answer (None: cancelled), so
the window's controller (app.ui.operator_controller) reads as a flow and tests answer them by
replacing the function. They do no I/O: checking a PIN runs off the GUI thread, after."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QWidget,
)

from ..core.site.operators import ROLES, Operator


def ask_name(parent: QWidget, offer: str) -> str | None:
    """The name or badge id of the person signing in; ``offer``: the station's last operator."""
    name, ok = QInputDialog.getText(parent, "Sign in", "Your name or badge id:", QLineEdit.Normal, offer)
    return name.strip() if ok and name.strip() else None


def ask_pin(parent: QWidget, who: str, why: str) -> str | None:
    pin, ok = QInputDialog.getText(parent, "PIN", f"{who}'s PIN {why}:", QLineEdit.Password)
    return pin if ok and pin else None


def ask_new_pin(parent: QWidget, who: str) -> str | None:
    """A new PIN for ``who``: "" removes it, None leaves it as it is."""
    pin, ok = QInputDialog.getText(parent, "Set my PIN",
                                   f"New PIN for {who} (leave empty for none; it guards against slips, "
                                   "it is not a password):", QLineEdit.Password)
    return pin.strip() if ok else None


class SupervisorDialog(QDialog):
    """Which supervisor confirms an action, and their PIN (left empty for one without a PIN)."""

    def __init__(self, parent: QWidget | None, what: str, supervisors: list[Operator]):
        super().__init__(parent)
        self.setWindowTitle("A supervisor must confirm")
        self.who = QComboBox()
        for s in supervisors:
            self.who.addItem(s.name)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.Password)
        self.pin.setPlaceholderText("empty if they have none")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        explain = QLabel(f"To {what}, a supervisor must confirm.")
        explain.setWordWrap(True)
        form.addRow(explain)
        form.addRow("Supervisor", self.who)
        form.addRow("PIN", self.pin)
        form.addRow(buttons)


def ask_supervisor(parent: QWidget, what: str, supervisors: list[Operator]) -> tuple[str, str] | None:
    """(supervisor's name, PIN typed) to confirm ``what``, or None when cancelled."""
    dialog = SupervisorDialog(parent, what, supervisors)
    if dialog.exec() != QDialog.Accepted:
        return None
    return dialog.who.currentText(), dialog.pin.text()


def ask_role(parent: QWidget, people: list[Operator]) -> tuple[str, str] | None:
    """(name, new role) for one of ``people``, or None when cancelled."""
    shown = [str(p) for p in people]
    chosen, ok = QInputDialog.getItem(parent, "Operator roles", "Whose role:", shown, 0, False)
    if not ok:
        return None
    person = people[shown.index(chosen)]
    role, ok = QInputDialog.getItem(parent, "Operator roles", f"{person.name} is:", list(ROLES),
                                    ROLES.index(person.role), False)
    return (person.name, role) if ok else None
