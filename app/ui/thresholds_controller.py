"""The thresholds in force: a preview while the supervisor drags them, a profile saved (a
supervisor's action, off the GUI thread), the profile named in the status bar, and the model's
saved profiles listed in the thresholds panel.

Saving recomputes every stored verdict of the model version (20.6 s on a shared database of a
million rows, measured with the window frozen before), so it runs in the window's TaskOwner; the
Workspace takes the new thresholds once they are stored.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.store.repository import threshold_profiles
from ..core.verdict import Thresholds
from ..core.workspace import Workspace
from .gallery import GalleryModel
from .station_status import StationStatus
from .tasks import TaskOwner
from .thresholds_panel import ThresholdsPanel
from .viewer import Viewer


class ThresholdsController(QObject):
    status = Signal(str)  # one line for the status bar

    def __init__(self, workspace: Workspace, tasks: TaskOwner, panel: ThresholdsPanel, viewer: Viewer,
                 batches: tuple[GalleryModel, ...], station_status: StationStatus, guard, parent=None):
        """``guard(what, then, refusal)``: calls ``then(who)`` once a supervisor stands behind it."""
        super().__init__(parent)
        self.workspace, self.tasks, self.panel, self.viewer = workspace, tasks, panel, viewer
        self.batches, self.station_status, self.guard = batches, station_status, guard
        panel.changed.connect(self.preview)
        panel.save_requested.connect(self.save)

    def preview(self, thresholds: Thresholds) -> None:
        """Every batch's verdicts and the viewer's, under ``thresholds`` (nothing is stored)."""
        for batch in self.batches:
            batch.apply_thresholds(thresholds)
        self.viewer.thresholds = thresholds
        self.viewer.info.setText(self.viewer.describe())

    def save(self, thresholds: Thresholds, name: str) -> None:
        """A supervisor's action: saved, with who, once a supervisor stands behind it."""
        self.guard(f"save threshold profile {name!r}", lambda who: self._store(thresholds, name, who), "Not saved")

    def _store(self, thresholds: Thresholds, name: str, who: str) -> None:
        ws = self.workspace

        def saved(_) -> None:
            ws.thresholds, ws.profile = thresholds, name
            self.preview(thresholds)
            self.show_profile(name)
            self.read_profiles()
            self.status.emit(f"Saved threshold profile {name!r}: pass ≥ {thresholds.pass_at:.0f}, "
                             f"fail < {thresholds.fail_below:.0f} ({who})")

        self.status.emit(f"Saving threshold profile {name!r}…")
        self.tasks.submit("thresholds", lambda: ws.store_thresholds(thresholds, name, who), on_done=saved)

    def model_loaded(self) -> None:
        """A model came in with its own thresholds and profile."""
        self.panel.set_thresholds(self.workspace.thresholds)
        self.show_profile(self.workspace.profile)
        self.read_profiles()

    def saved_elsewhere(self, thresholds: Thresholds) -> None:
        """Another station's supervisor saved these for this model version."""
        self.panel.set_thresholds(thresholds)
        self.preview(thresholds)

    def show_profile(self, name: str | None) -> None:
        self.station_status.show_profile(name, self.workspace.thresholds)
        self.panel.profile.setText(name or "default")  # what a Save updates unless another name is typed

    def read_profiles(self) -> None:
        """The model's saved profiles, with who changed them and when, for the thresholds panel."""
        db, version = self.workspace.db, self.workspace.model_version_id
        if version is not None:
            self.tasks.submit("profiles", lambda: threshold_profiles(db, version), on_done=self.panel.show_profiles)
