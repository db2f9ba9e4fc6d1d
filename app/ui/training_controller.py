"""Owns the Training panel: which model it fine-tunes, switching versions, and the site
calibration. It holds the Workspace (app.core does the work; fast enough for the GUI thread)
and reads the station's state for the panel, which does no I/O. It knows nothing of the main
window: what the window must act on leaves as signals, which the window connects."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from ..core.calibration import Calibration
from ..core.training_state import training_state
from ..core.workspace import Workspace
from .training_panel import TrainingPanel


class TrainingController(QObject):
    status = Signal(str)  # one line for the status bar
    switch_requested = Signal(str)  # the version (path) the supervisor chose; the window loads it
    scores_changed = Signal(dict)  # path -> stored score, after a calibration was applied or removed

    def __init__(self, workspace: Workspace, runs_dir: Path, settings: QSettings,
                 is_busy: Callable[[], bool] = lambda: False, config: Path | None = None,
                 panel_factory=TrainingPanel, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace, self.runs_dir, self.settings, self.is_busy = workspace, Path(runs_dir), settings, is_busy
        self.config, self.panel_factory = config, panel_factory
        self.panel: TrainingPanel | None = None
        self.candidate: Calibration | None = None  # fitted, waiting to be applied

    def open(self) -> None:
        if self.panel is None:
            self.panel = self.panel_factory(
                self.workspace.db.url, self.workspace.model.onnx_path, self.runs_dir,
                python_setting=self.settings.value("training_python") or None, config=self.config,
            )
            self.panel.use_model.connect(self.switch_model)
            self.panel.python_chosen.connect(lambda path: self.settings.setValue("training_python", path))
            self.panel.finished.connect(lambda _success: self.refresh())  # a new version, maybe
            self.panel.calibration_fit_requested.connect(self.fit_calibration)
            self.panel.calibration_apply_requested.connect(lambda: self.apply_calibration(self.candidate))
            self.panel.calibration_remove_requested.connect(lambda: self.apply_calibration(None))
            self.panel.resize(900, 760)
        self.refresh()
        self.panel.show()

    def refresh(self) -> None:
        self.panel.set_base_model(self.workspace.model.onnx_path)
        self.panel.show_state(training_state(self.workspace.db, self.config))
        self.show_calibration()

    def switch_model(self, path: str) -> None:
        self.switch_requested.emit(path)  # a direct connection: the window has switched on return
        self.refresh()

    def show_calibration(self) -> None:
        current = self.workspace.calibration
        text = "Site calibration: none (scores are the model's own)."
        if current is not None:
            text = (f"Site calibration applied: fitted on {current.n} rated photos; cross-validated SRCC "
                    f"{current.cv_srcc:.3f} vs {current.base_srcc:.3f} uncalibrated.")
        self.panel.show_calibration(text, False)

    def fit_calibration(self) -> None:
        try:
            self.candidate = self.workspace.fit_calibration()
        except ValueError as exc:
            self.panel.show_calibration(f"Cannot calibrate: {exc}", False)
            return
        c = self.candidate
        verdict = "it helps" if c.cv_srcc > c.base_srcc else "it does NOT help; keep the model as it is"
        self.panel.show_calibration(
            f"Fitted on {c.n} rated photos. On photos left out of each fit: SRCC {c.cv_srcc:.3f} / PLCC "
            f"{c.cv_plcc:.3f}, against {c.base_srcc:.3f} / {c.base_plcc:.3f} for the model alone: {verdict}.",
            c.cv_srcc > c.base_srcc,  # Apply is offered only for a fit that helps
        )

    def apply_calibration(self, calibration: Calibration | None) -> None:
        if self.is_busy():
            self.status.emit("Finish or cancel the running batch before changing the calibration")
            return
        changed = self.workspace.apply_calibration(calibration)
        self.scores_changed.emit({r["path"]: r["score"] for r in self.workspace.rows()})
        self.status.emit(f"{'Applied' if calibration else 'Removed'} site calibration: {changed} stored scores updated")
        self.candidate = None
        self.show_calibration()
