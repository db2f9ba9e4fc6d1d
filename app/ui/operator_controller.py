"""Who is at the station: signing in and switching operator, a PIN of one's own, roles, and the
supervisor's confirmation that the window asks for before a supervisor action.

The rules live in app.core.site.operators; this owns the signed-in person for one window, asks
through the dialogs of app.ui.sign_in, and runs every database statement in the window's
TaskOwner. The station's supervisors are kept as last read (at start and after every change made
here), so an action with nobody to ask goes ahead at once, in order with the window's other work.
What the window shows leaves as signals.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.model.trust import current_user
from ..core.site.operators import (
    Operator,
    OperatorError,
    PinRequired,
    SignedIn,
    confirm_supervisor,
    key_of,
    operators,
    set_pin,
    set_role,
    sign_in,
    supervisors,
)
from ..core.store.database import Database
from . import sign_in as dialogs
from .tasks import TaskOwner, describe_failure

LAST_OPERATOR = "operator"  # the QSettings key of the station's last operator


def _said(exc: Exception) -> str:
    return str(exc) if isinstance(exc, OperatorError) else describe_failure(exc)


class OperatorController(QObject):
    changed = Signal()  # who is signed in, or their role, changed
    status = Signal(str)  # one line for the status bar

    def __init__(self, db: Database, tasks: TaskOwner, settings: QSettings, dialog_parent: QWidget):
        super().__init__(dialog_parent)
        self.db, self.tasks, self.settings, self.dialog_parent = db, tasks, settings, dialog_parent
        self.current: Operator | None = None
        self.last: str | None = settings.value(LAST_OPERATOR) or None  # offered at the next sign-in
        self.supervisors: list[Operator] | None = None  # the station's, as last read (None: not yet)

    def load(self) -> None:
        """Read the station's supervisors (the window calls it once, at start)."""
        db = self.db
        self.tasks.submit("supervisors", lambda: supervisors(db), on_done=self._set_supervisors, replace=False)

    def _set_supervisors(self, found: list[Operator]) -> None:
        self.supervisors = found

    def recorded_name(self) -> str:
        """The name put on what is done now: the signed-in operator's, else the OS login, saying so."""
        return self.current.name if self.current else f"{current_user()} (not signed in)"

    # --- signing in -------------------------------------------------------------------------
    def sign_in(self) -> None:
        """Ask who is at the station and sign them in (switching operator is the same)."""
        offer = self.last if self.current is None else ""
        name = dialogs.ask_name(self.dialog_parent, offer or "")
        if name:
            self._sign_in(name, None)

    def _sign_in(self, name: str, pin: str | None) -> None:
        db = self.db
        self.tasks.submit(("sign in", key_of(name)), lambda: sign_in(db, name, pin), on_done=self._signed_in,
                          on_error=lambda exc: self._not_signed_in(exc, name, pin), replace=False)

    def _not_signed_in(self, exc: Exception, name: str, pin: str | None) -> None:
        if isinstance(exc, PinRequired) and pin is None:
            pin = dialogs.ask_pin(self.dialog_parent, name, "to sign in")
            if pin:
                self._sign_in(name, pin)
                return
        still = f"; {self.current.name} is still signed in" if self.current else ""
        self.status.emit(f"Not signed in as {name}: {_said(exc)}{still}")

    def _signed_in(self, done: SignedIn) -> None:
        self.current = done.operator
        self.last = done.operator.name
        self.settings.setValue(LAST_OPERATOR, done.operator.name)
        self.load()  # a first supervisor, or another station's new ones
        self.changed.emit()
        who = done.operator
        if done.first_supervisor:
            self.status.emit(f"Signed in as {who.name}, the first operator at this station, and so its supervisor "
                             "(Operator → Set my PIN guards against slips; Operator → Roles names more supervisors)")
        else:
            self.status.emit(f"Signed in as {who.name} ({who.role})" + (": welcome" if done.new else ""))

    # --- one's own PIN, and roles ---------------------------------------------------------------
    def set_my_pin(self) -> None:
        if self.current is None:
            self.status.emit("Sign in first (Ctrl+U): a PIN is set for the person signed in")
            return
        who = self.current
        old = None
        if who.has_pin:
            old = dialogs.ask_pin(self.dialog_parent, who.name, "now (to change it)")
            if old is None:
                return
        new = dialogs.ask_new_pin(self.dialog_parent, who.name)
        if new is None:
            return
        db = self.db

        def done(operator: Operator) -> None:
            self.current = operator
            self.changed.emit()
            self.status.emit(f"{operator.name}'s PIN " + ("set" if operator.has_pin else "removed"))

        self.tasks.submit("pin", lambda: set_pin(db, who.name, new, old), on_done=done,
                          on_error=lambda exc: self.status.emit(f"PIN not changed: {_said(exc)}"), replace=False)

    def change_role(self) -> None:
        """A supervisor makes an operator a supervisor, or a supervisor an operator."""
        self.require_supervisor("change an operator's role", lambda _who: self._list_for_roles(), "Not changed")

    def _list_for_roles(self) -> None:
        db = self.db
        self.tasks.submit("roles", lambda: operators(db), on_done=self._ask_role, replace=False)

    def _ask_role(self, people: list[Operator]) -> None:
        if not people:
            self.status.emit("Nobody has signed in at this station yet")
            return
        answer = dialogs.ask_role(self.dialog_parent, people)
        if answer is None:
            return
        name, role = answer
        db = self.db

        def done(operator: Operator) -> None:
            if self.current is not None and key_of(self.current.name) == key_of(operator.name):
                self.current = operator
            self.load()
            self.changed.emit()
            self.status.emit(f"{operator.name} is now {'a supervisor' if operator.is_supervisor else 'an operator'}")

        self.tasks.submit("roles", lambda: set_role(db, name, role), on_done=done,
                          on_error=lambda exc: self.status.emit(f"Role not changed: {_said(exc)}"), replace=False)

    # --- the supervisor's confirmation -----------------------------------------------------------
    def require_supervisor(self, what: str, then: Callable[[str], None], refusal: str = "Not done",
                           refused: Callable[[str], None] | None = None) -> None:
        """Run ``then(name)`` once a supervisor stands behind ``what`` (said as "to ``what``"):
        at once for a supervisor signed in, or at a station with no supervisor yet (the OS login,
        or the operator's name, is recorded); otherwise after a supervisor is chosen and their PIN
        checked. Refused, nothing runs: ``refused(why)`` when given, else one status line
        starting with ``refusal``."""
        if self.current is not None and self.current.is_supervisor:
            then(self.current.name)
            return
        if self.supervisors is None:  # not read yet: read, then decide
            db = self.db

            def read(found: list[Operator]) -> None:
                self.supervisors = found
                self.require_supervisor(what, then, refusal, refused)

            self.tasks.submit(("supervisors for", what), lambda: supervisors(db), on_done=read, replace=False)
            return
        if not self.supervisors:  # a fresh station: nobody to ask, never locked out
            then(self.recorded_name())
            return

        def refuse(why: str) -> None:
            if refused is not None:
                refused(why)
            else:
                self.status.emit(f"{refusal}: a supervisor must confirm to {what} ({why})")

        answer = dialogs.ask_supervisor(self.dialog_parent, what, self.supervisors)
        if answer is None:
            refuse("no supervisor confirmed it")
            return
        name, pin = answer
        db = self.db
        self.tasks.submit(("supervisor", what), lambda: confirm_supervisor(db, name, pin or None),
                          on_done=lambda supervisor: then(supervisor.name),
                          on_error=lambda exc: refuse(_said(exc)), replace=False)

    def approve_model(self, card: dict, chosen_by: str | None, approved: Callable[[str], None],
                      declined: Callable[[str | None], None]) -> None:
        """Ask whether to run a model this station does not know; a supervisor's action, so
        ``approved(who)`` follows only once one stands behind it (``chosen_by``: the supervisor who
        already confirmed this switch). ``declined(why)`` otherwise (ModelController's ``approve``)."""
        who = chosen_by or self.recorded_name()
        answer = QMessageBox.question(
            self.dialog_parent, "Run a model this station does not know?",
            f"{card['name']} v{card['version']} is not a model this program ships, and it was not "
            f"fine-tuned or approved at this station.\n\nsha256 {card['sha256']}\n\n"
            f"Run it and record the approval ({who})?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            declined(None)
        elif chosen_by:
            approved(chosen_by)
        else:
            self.require_supervisor(f"approve {card['name']} v{card['version']}", approved,
                                    refused=lambda why: declined(f"a supervisor must approve it ({why})"))
