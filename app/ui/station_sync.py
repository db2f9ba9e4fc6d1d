"""The window's side of stations sharing one database: every few seconds the timer submits a
read to the window's TaskOwner (app.ui.tasks), asking app.core.site.station_sync what another
station's supervisor changed, and hands the answer to the window as signals (switch to this model
version; apply these thresholds). The window connects them to the methods it already has, so a
change arrives exactly as if made here, badges included."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.site.station_sync import SiteChange, StationSync
from ..core.workspace import Workspace
from .tasks import TaskOwner

POLL_MS = 3000
KEY = "station sync"


class StationSyncTimer(QObject):
    model_switch = Signal(str)  # the path of the version the site runs now; the window loads it
    thresholds_changed = Signal(object)  # Thresholds saved at another station for this version
    profile_changed = Signal(object)  # the name of the profile saved there (None: the defaults)
    reviews_changed = Signal()  # review decisions were added for this version (at any station)
    status = Signal(str)  # one line for the status bar

    def __init__(self, workspace: Workspace, tasks: TaskOwner, is_busy: Callable[[], bool] = lambda: False,
                 interval_ms: int = POLL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace, self.tasks, self.is_busy = workspace, tasks, is_busy
        self.sync = StationSync(workspace.db)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll_now)
        self._said: str | None = None  # the last line shown, so a lasting state is said once
        self._switching = None  # the site's version the window is loading, until switch_ended

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        """Stops polling; a poll in flight finishes (one short query; the owner's drain waits for
        it) and its answer is dropped."""
        self.timer.stop()
        self.tasks.cancel(KEY)

    def poll_now(self) -> None:
        """One read of what the site changed, unless one is on its way (or a switch is)."""
        version = self.workspace.model_version_id
        if self.tasks.busy(KEY) or self._switching is not None or version is None:
            return
        sync, thresholds = self.sync, self.workspace.thresholds
        # A database that went away is said once, and polled again later.
        self.tasks.submit(KEY, lambda: sync.poll(version, thresholds), on_done=lambda change: self._done(version, change),
                          on_error=lambda exc: self._done(version, exc))

    def switch_ended(self, loaded: bool) -> None:
        """The window's answer to ``model_switch``: whether the site's version now runs here."""
        m, self._switching = self._switching, None
        if m is None:
            return
        if loaded and self.workspace.model_version_id == m.id:
            self._say(f"Switched to {m.name} v{m.version}, chosen at another station")
        else:
            self.sync.decline(m.id)
            self._say(f"Another station switched the site to {m.name} v{m.version}, which this station cannot "
                      f"load from {m.path}; keeping the current model")

    def _say(self, line: str) -> None:
        if line != self._said:
            self._said = line
            self.status.emit(line)

    def _done(self, version: int, change) -> None:
        if version != self.workspace.model_version_id:
            return  # the station switched while the poll ran: its answer is about the old version
        if isinstance(change, Exception):
            self._say(f"Shared settings could not be read ({str(change).splitlines()[0][:200]}); trying again")
            return
        self._apply(change)

    def _apply(self, change: SiteChange) -> None:
        if change.model is not None:
            m = change.model
            if self.is_busy():
                self._say(f"Another station switched the site to {m.name} v{m.version}: switching when this batch ends")
                return
            here = self.workspace.model
            if here is not None and str(here.onnx_path) == m.path:
                # The site's version is to be loaded from the very file this station runs: another
                # version is there now (an upgrade replaced one of them), and loading it again
                # would give this one back.
                self.sync.decline(m.id)
                self._say(f"The site runs {m.name} v{m.version} from {m.path}, where this station has {here.name} "
                          f"v{here.version}: keeping v{here.version} until a supervisor chooses the site's model "
                          "or every station has the same program")
                return
            self._switching = m
            self.model_switch.emit(m.path)  # the window loads it off the GUI thread, then calls switch_ended
        elif change.reviews:
            self.reviews_changed.emit()
        elif change.thresholds is not None:
            t = change.thresholds
            self.workspace.thresholds = t  # what new photos are judged by here from now on
            self.workspace.profile = change.profile
            self.thresholds_changed.emit(t)
            self.profile_changed.emit(change.profile)
            self._said = None  # a new change is always said
            self._say(f"Thresholds {change.profile!r} saved at another station: pass ≥ {t.pass_at:.0f}, "
                      f"fail < {t.fail_below:.0f}")
