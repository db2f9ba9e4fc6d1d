"""The site's reason codes at this window: the list the accept / reject question offers, read
from the database (every station of the site offers the same), kept here so the question opens
at once, and read again at each of the window's station-sync polls (every 3 s) so a supervisor's
change at another station reaches this one within seconds. A supervisor changes the list (Review → Reason codes); a station's
own list from its settings, where the window kept it before, is carried into the database the
first time, unless the site already has one. Every database statement runs in the TaskOwner."""
from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QInputDialog, QWidget

from ..core.model.trust import current_user
from ..core.outputs.reason_codes import (
    DEFAULT_CODES,
    OTHER,
    has_site_reason_codes,
    parse_codes,
    set_site_reason_codes,
    site_reason_codes,
)
from ..core.store.database import Database
from .tasks import TaskOwner, describe_failure

LEGACY_KEY = "review/reason_codes"  # where a station's settings kept its list before (a list, or text with commas)
TITLE = "Reason codes"


class SiteReasonCodes(QObject):
    status = Signal(str)  # one line for the status bar

    def __init__(self, db: Database, tasks: TaskOwner, settings: QSettings, guard, dialog_parent: QWidget):
        """``guard(what, then, refusal)``: runs ``then(who)`` once a supervisor stands behind it
        (the window's OperatorController.require_supervisor)."""
        super().__init__(dialog_parent)
        self.db, self.tasks, self.settings, self.guard, self.dialog_parent = db, tasks, settings, guard, dialog_parent
        self.codes: tuple[str, ...] = DEFAULT_CODES  # until the site's are read

    def load(self) -> None:
        """Read the site's list (at start); a station's list from its settings goes in first when
        the site has none yet, and leaves the settings either way."""
        db, legacy = self.db, self.settings.value(LEGACY_KEY, "")
        if legacy:
            self.settings.remove(LEGACY_KEY)
        carried_by = f"{current_user()} (this station's settings)"

        def read() -> tuple[str, ...]:
            if legacy and not db.run(has_site_reason_codes, db):
                return db.run(set_site_reason_codes, db, legacy, carried_by)
            return db.run(site_reason_codes, db)

        self.tasks.submit("reason codes", read, on_done=self._read)

    def refresh(self) -> None:
        db = self.db
        self.tasks.submit("reason codes", lambda: db.run(site_reason_codes, db), on_done=self._read)

    def _read(self, codes: tuple[str, ...]) -> None:
        self.codes = tuple(codes)

    def edit(self) -> None:
        """A supervisor's change of the site's list: asked as text, separated by commas."""
        shown = ", ".join(c for c in self.codes if c != OTHER)
        text, ok = QInputDialog.getText(
            self.dialog_parent, TITLE,
            f"The site's reason codes, separated by commas, for every station (\u201c{OTHER}\u201d is always "
            "offered last; leave it empty for the defaults):", text=shown)
        if not ok:
            return
        wanted = parse_codes(text)
        self.guard("change the site's reason codes", lambda who: self._store(wanted, who), "Not changed")

    def _store(self, codes: tuple[str, ...], who: str) -> None:
        db = self.db

        def stored(now: tuple[str, ...]) -> None:
            self.codes = tuple(now)
            self.status.emit(f"Reason codes for every station: {', '.join(now)} ({who})")

        self.tasks.submit("reason codes", lambda: db.run(set_site_reason_codes, db, codes, who), on_done=stored,
                          on_error=lambda exc: self.status.emit(f"Not changed: {describe_failure(exc)}"), replace=False)
