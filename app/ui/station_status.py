"""The status bar's permanent part: who is signed in (click to sign in or switch), which model
version runs, and which threshold profile is in force. Always shown, whatever the status line says."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QToolButton

from ..core.model.trust import current_user
from ..core.site.operators import Operator
from ..core.verdict import Thresholds


class StationStatus:
    def __init__(self, status_bar):
        self.operator = QToolButton()
        self.operator.setAutoRaise(True)
        self.operator.setToolTip("Sign in or switch operator (Ctrl+U)")
        self.model = QLabel("Model: loading…")
        self.profile = QLabel()
        for widget in (self.operator, self.model, self.profile):
            status_bar.addPermanentWidget(widget)
        self.show_operator(None, None)
        self.show_profile(None, Thresholds())

    def show_operator(self, operator: Operator | None, last: str | None) -> None:
        if operator is not None:
            self.operator.setText(str(operator))
            return
        # Nobody signed in: what is done now carries the OS login, and the window says so.
        offer = f" · sign in as {last}?" if last else " · sign in"
        self.operator.setText(f"Not signed in (recorded as {current_user()}){offer}")

    def show_model(self, name: str, version: str) -> None:
        self.model.setText(f"Model: {name} v{version}")

    def show_profile(self, profile: str | None, thresholds: Thresholds) -> None:
        self.profile.setText(f"Thresholds: {profile or 'default'} (pass ≥ {thresholds.pass_at:g}, "
                             f"fail < {thresholds.fail_below:g})")
