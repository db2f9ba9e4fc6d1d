"""The status bar's permanent part: who is signed in (click to sign in or switch), which model
version runs, and which threshold profile is in force. Always shown, whatever the status line says."""
from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy

from ..core.model.trust import current_user
from ..core.site.operators import Operator
from ..core.verdict import Thresholds
from .status_line import ElidedLabel, ElidedToolButton

SIGN_IN_TIP = "Sign in or switch operator (Ctrl+U)"


class StationStatus:
    def __init__(self, status_bar):
        self.operator = ElidedToolButton()
        self.operator.setAutoRaise(True)
        self.model = ElidedLabel("Model: loading…")
        self.profile = ElidedLabel()
        for widget in (self.operator, self.model, self.profile):
            widget.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)  # may shrink below its text, never grow
            status_bar.addPermanentWidget(widget)
        self.show_operator(None, None)
        self.show_profile(None, Thresholds())

    def show_operator(self, operator: Operator | None, last: str | None) -> None:
        if operator is not None:
            self.operator.set_full_text(str(operator), SIGN_IN_TIP)
            return
        # Nobody signed in: what is done now carries the OS login, and the window says so.
        offer = f" · sign in as {last}?" if last else " · sign in"
        self.operator.set_full_text(f"Not signed in (recorded as {current_user()}){offer}", SIGN_IN_TIP)

    def show_model(self, name: str, version: str) -> None:
        self.model.setText(f"Model: {name} v{version}")

    def show_profile(self, profile: str | None, thresholds: Thresholds) -> None:
        self.profile.setText(f"Thresholds: {profile or 'default'} (pass ≥ {thresholds.pass_at:g}, "
                             f"fail < {thresholds.fail_below:g})")
