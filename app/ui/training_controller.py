"""Wires the Training panel to the window: which model it fine-tunes, switching versions, and
the site calibration (its work is in the Qt-free Workspace; fast enough for the GUI thread)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.calibration import Calibration
from .training_panel import TrainingPanel

if TYPE_CHECKING:
    from .main_window import MainWindow


class TrainingController:
    def __init__(self, window: MainWindow):
        self.window = window
        self.panel: TrainingPanel | None = None
        self.candidate: Calibration | None = None  # fitted, waiting to be applied

    @property
    def workspace(self):
        return self.window.workspace

    def open(self) -> None:
        if self.panel is None:
            w = self.window
            self.panel = TrainingPanel(
                self.workspace.db, self.workspace.db.url, self.workspace.model.onnx_path, w.runs_dir,
                python_setting=w.settings.value("training_python") or None,
            )
            self.panel.use_model.connect(self.switch_model)
            self.panel.python_chosen.connect(lambda path: w.settings.setValue("training_python", path))
            self.panel.calibration_fit_requested.connect(self.fit_calibration)
            self.panel.calibration_apply_requested.connect(lambda: self.apply_calibration(self.candidate))
            self.panel.calibration_remove_requested.connect(lambda: self.apply_calibration(None))
            self.panel.resize(900, 760)
        self.refresh()
        self.panel.show()

    def refresh(self) -> None:
        self.panel.set_base_model(self.workspace.model.onnx_path)
        self.panel.refresh_versions()
        self.show_calibration()

    def switch_model(self, path: str) -> None:
        self.window.switch_model(path)
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
        w = self.window
        if w.is_busy():
            w.statusBar().showMessage("Finish or cancel the running batch before changing the calibration")
            return
        changed = self.workspace.apply_calibration(calibration)
        w.model.set_scores({r["path"]: r["score"] for r in self.workspace.rows()}, self.workspace.thresholds)
        w.scores_changed()  # histogram, counts and the viewer's caption follow the new scores
        w.statusBar().showMessage(f"{'Applied' if calibration else 'Removed'} site calibration: {changed} stored scores updated")
        self.candidate = None
        self.show_calibration()
