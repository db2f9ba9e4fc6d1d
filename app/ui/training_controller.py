"""Owns the Training panel: which model it fine-tunes, switching versions, and the site
calibration. It holds the Workspace (app.core does the work) and reads the station's state for
the panel, which does no I/O; every database statement runs in a TaskOwner (the window's), and
its answer comes back here on the GUI thread. It knows nothing of the main window: what the
window must act on leaves as signals, which the window connects.

Switching versions, registering a version kept back, fine-tuning and applying a calibration are
supervisor actions: each goes through ``guard(what, then, refusal)``, which calls ``then(who)``
once a supervisor stands behind it (the window's OperatorController.require_supervisor); who is
recorded with what changed.

It also checks that the training Python has the pipeline (torch, timm) and, on a supervisor's
request, installs it (app.core.site.training_setup). The install runs in a lane of the window's
TaskOwner of its own: minutes of pip in the short work's lane would hold every vote and save
behind it."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, Signal

from ..core.calibration import Calibration
from ..core.calibration.fitted import reversal_bar
from ..core.model.contract import ModelError
from ..core.model.trust import current_user
from ..core.site import training_setup
from ..core.site.finetune_job import inherited_thresholds, register_anyway
from ..core.site.plain_words import applied_calibration_in_words, calibration_in_words
from ..core.site.training_state import training_state
from ..core.stats import below_zero
from ..core.store.repository import model_versions, save_thresholds, score_rows
from ..core.verdict import Thresholds
from ..core.workspace import Workspace
from .tasks import TaskOwner, describe_failure
from .training_panel import TrainingPanel


INSTALL = "install"  # the key of the install, and its lane
DETAILS_SETTING = "training_details"  # the Training window shows its figures (Details)


class _Lines(QObject):
    """Carries an install's output lines from its worker thread to the panel (queued)."""

    line = Signal(str)


class TrainingController(QObject):
    status = Signal(str)  # one line for the status bar
    switch_requested = Signal(str, str)  # the version (path) a supervisor chose, and who; the window loads it
    scores_changed = Signal(dict)  # path -> stored score (of shown_paths), after a calibration was applied or removed

    def __init__(self, workspace: Workspace, runs_dir: Path, settings: QSettings,
                 is_busy: Callable[[], bool] = lambda: False, config: Path | None = None,
                 panel_factory=TrainingPanel, tasks: TaskOwner | None = None,
                 shown_paths: Callable[[], list[str] | None] = lambda: None, guard=None,
                 install_runner=None, parent: QObject | None = None):
        super().__init__(parent)
        # Without a window's sign-in (a panel run alone), the OS login stands behind every action.
        self.guard = guard or (lambda what, then, refusal="Not done": then(current_user()))
        self.tasks = tasks or TaskOwner(self)
        self.shown_paths = shown_paths  # whose new scores scores_changed carries (None: every photo's)
        self.workspace, self.runs_dir, self.settings, self.is_busy = workspace, Path(runs_dir), settings, is_busy
        self.config, self.panel_factory = config, panel_factory
        self.panel: TrainingPanel | None = None
        self.candidate: Calibration | None = None  # fitted, waiting to be applied
        # runner(command, on_line, started=...) -> (exit code, last lines); tests hand in their own.
        self.install_runner = install_runner or training_setup.run_command
        self._install_lines = _Lines(self)
        self._install_process = None  # the running install, stopped if the window closes

    def open(self) -> None:
        if self.panel is None:
            self.panel = self.panel_factory(
                self.workspace.db.url, self.workspace.model.onnx_path, self.runs_dir,
                python_setting=self.settings.value("training_python") or None, config=self.config,
            )
            self.panel.use_model.connect(lambda path: self.guard(
                f"switch the model version to {Path(path).name}", lambda who: self.switch_model(path, who),
                "Not switched"))
            self.panel.guard = self.guard  # starting a fine-tune asks too
            self.panel.python_chosen.connect(lambda path: self.settings.setValue("training_python", path))
            self.panel.python_chosen.connect(lambda _path: self.check_pipeline())
            self.panel.install_requested.connect(self.install_pipeline)
            self._install_lines.line.connect(self.panel.append_install_output)
            self.panel.finished.connect(lambda _success: self.refresh())  # a new version, maybe
            self.panel.calibration_fit_requested.connect(self.fit_calibration)
            self.panel.calibration_apply_requested.connect(lambda: self.guard(
                "apply the site calibration", lambda who: self.apply_calibration(self.candidate, who), "Not applied"))
            self.panel.calibration_remove_requested.connect(lambda: self.guard(
                "remove the site calibration", lambda who: self.apply_calibration(None, who), "Not removed"))
            self.panel.register_requested.connect(self.register_kept_back)
            # Plain words, or the figures too: as the supervisor left it last time.
            self.panel.set_details(self.settings.value(DETAILS_SETTING, False, type=bool))
            self.panel.details_toggled.connect(lambda shown: self.settings.setValue(DETAILS_SETTING, shown))
        self.refresh()
        self.panel.show_in_front()  # Ctrl+T again restores a minimised Training window

    def refresh(self) -> None:
        self.panel.set_base_model(self.workspace.model.onnx_path)
        self.check_pipeline()  # first: its answer arrives before the state that may enable Fine-tune
        self._read_state()
        self.show_calibration()

    def ratings_changed(self) -> None:
        """A rater answered at this station: an open Training window re-reads the ratings (its
        meter, its table, whether a fine-tune can start)."""
        if self.panel is not None and self.panel.isVisible():
            self._read_state()

    def _read_state(self) -> None:
        """The station's ratings and versions, read off the GUI thread; a newer read replaces one
        still waiting."""
        db, config = self.workspace.db, self.config
        self.tasks.submit("training state", lambda: training_state(db, config), on_done=self._show_state)

    def _show_state(self, state) -> None:
        if self.panel is not None:
            self.panel.show_state(state)

    # --- the training pipeline ---------------------------------------------------------------
    def check_pipeline(self) -> None:
        """Ask whether the training Python has torch and timm (a child process when it is not
        this one, so off the GUI thread)."""
        python = self.panel.python
        if python is None:  # a bundle with nothing configured: the panel already says what to install
            return
        self.tasks.submit("training pipeline", lambda: training_setup.missing_modules(python),
                          on_done=lambda missing: self._show_pipeline(python, missing))

    def _show_pipeline(self, python: str, missing: list[str]) -> None:
        command = training_setup.install_command(python)
        self.panel.show_pipeline(missing, training_setup.shown(command) if command else None)

    def install_pipeline(self) -> None:
        """Install the pipeline into the training Python: a supervisor's decision, asked first
        (several GB), run in the background with its output in the panel."""
        python = self.panel.python
        command = training_setup.install_command(python)
        if command is None or self.installing():
            return
        text = training_setup.shown(command)

        def confirmed(_who: str) -> None:
            if not self.panel.confirm(
                    "Install the training pipeline?",
                    f"This runs\n\n    {text}\n\nin {training_setup.source_root()}. It downloads torch, timm and "
                    "their libraries (a few GB; some minutes) into the Python the fine-tune runs in. The window "
                    "stays usable meanwhile; the output shows in the Training panel."):
                return
            self._run_install(command, text)

        self.guard("install the training pipeline", confirmed, "Not installed")

    def _run_install(self, command: list[str], text: str) -> None:
        runner, emit = self.install_runner, self._install_lines.line.emit
        self.panel.install_started(text)
        self.status.emit("Installing the training pipeline…")
        self.tasks.submit(INSTALL, lambda: runner(command, emit, started=self._started), on_done=self._installed,
                          on_error=lambda exc: self._install_failed(text, exc), lane=INSTALL)

    def installing(self) -> bool:
        return self.tasks.busy(INSTALL)

    def _started(self, process) -> None:
        self._install_process = process  # from the install's thread: only kept, used on close

    def _installed(self, answer: tuple[int, str]) -> None:
        self._install_process = None
        code, tail = answer
        if code == 0:
            message = "The training pipeline is installed: fine-tuning can start once the station has the ratings."
            self.check_pipeline()
        else:
            message = (f"The training pipeline was not installed: {training_setup.failure_reason(code, tail)}. "
                       "Nothing else changed; the install's output is above.")
        self.panel.install_finished(message)
        self.status.emit(message)

    def _install_failed(self, text: str, exc: Exception) -> None:
        self._install_process = None
        said = (exc.strerror or str(exc)) if isinstance(exc, OSError) else describe_failure(exc)
        message = f"The training pipeline was not installed: could not run {text} ({said})."
        self.panel.install_finished(message)
        self.status.emit(message)

    def stop_install(self) -> None:
        """The window closes: a running install is stopped (pip starts over cleanly next time)."""
        process = self._install_process
        if process is not None and process.poll() is None:
            process.terminate()
        self.tasks.wait(INSTALL, 5000)

    def switch_model(self, path: str, who: str | None = None) -> None:
        """Switch to the version at ``path``, ``who``'s choice (the panel's button asks the guard first)."""
        who = who or current_user()
        # The parent's thresholds are offered (and saved) before the switch, so the window loads them.
        db = self.workspace.db
        self.tasks.submit("switch", lambda: inherited_thresholds(model_versions(db), path),
                          on_done=lambda found: self.offer_parent_thresholds(path, found, who))

    def _switch(self, path: str, who: str) -> None:
        self.switch_requested.emit(path, who)  # the window loads it (off the GUI thread)
        self.refresh()

    def offer_parent_thresholds(self, path: str, found, who: str | None = None) -> None:
        """A fine-tuned version without thresholds of its own starts from its parent's, if the
        supervisor agrees; either answer is saved as its profile, so it is asked once. ``found``:
        (the version, its parent) when it has no thresholds of its own, else None."""
        who = who or current_user()
        if found is None:
            self._switch(path, who)
            return
        target, parent = found
        inherited, default = Thresholds(*parent.thresholds), Thresholds()
        yes = self.panel.confirm(
            "Thresholds for the new version",
            f"{target.name} v{target.version} has no thresholds of its own. Start from those of the version it "
            f"was fine-tuned from, {parent.name} v{parent.version}: pass ≥ {inherited.pass_at:g}, fail < "
            f"{inherited.fail_below:g}?\n\nNo keeps the defaults (pass ≥ {default.pass_at:g}, fail < "
            f"{default.fail_below:g}). Either can be changed later in the thresholds panel.")
        chosen = inherited if yes else default
        db = self.workspace.db

        def saved(_) -> None:
            self.status.emit(f"{target.name} v{target.version}: thresholds pass ≥ {chosen.pass_at:g}, "
                             f"fail < {chosen.fail_below:g} ({'from its parent' if yes else 'defaults'})")
            self._switch(path, who)

        self.tasks.submit("switch", lambda: save_thresholds(db, target.id, "from parent" if yes else "default", chosen,
                                                            who), on_done=saved)

    def register_kept_back(self, report: dict) -> None:
        """A supervisor overrides the fine-tune's decision not to register a version."""
        if not self.panel.confirm(
                "Register a version the fine-tune kept back?",
                f"{report.get('decision', '')}\n\nRegister {report.get('model')} anyway, recording the "
                "supervisor who decided so against the test result?"):
            return
        self.guard("register a version the fine-tune kept back", lambda who: self._register(report, who),
                   "Not registered")

    def _register(self, report: dict, who: str) -> None:
        test = report.get("test") or {}
        db = self.workspace.db

        def registered(_) -> None:
            self.panel.show_kept_back(None)
            self.status.emit(f"Registered {report.get('model')} (test gain {test.get('gain', float('nan')):+.3f}) "
                             f"at {who}'s decision")
            self.refresh()

        def refused(exc: Exception) -> None:
            said = exc if isinstance(exc, (ModelError, OSError)) else describe_failure(exc)
            self.status.emit(f"Could not register the version: {said}")

        self.tasks.submit("register", lambda: register_anyway(db, report, who), on_done=registered, on_error=refused)

    def show_calibration(self) -> None:
        current = self.workspace.calibration
        figures = ""
        if current is not None:
            figures = (f"{current.describe()}, fitted on {current.n} rated photos; on photos left out of every "
                       f"choice SRCC {current.cv_srcc:.3f}{_ci(current.cv_srcc_ci)} vs "
                       f"{current.base_srcc:.3f}{_ci(current.base_srcc_ci)} uncalibrated.")
        self.panel.show_calibration(applied_calibration_in_words(current), False, details=figures)

    def fit_calibration(self) -> None:
        """Fitted off the GUI thread: a nested cross-validation and a paired bootstrap (seconds)."""
        self.panel.show_calibration("Fitting a site calibration…", False)
        self.tasks.submit("calibration", self.workspace.fit_calibration, on_done=self._fitted,
                          on_error=self._not_fitted)

    def _not_fitted(self, exc: Exception) -> None:
        said = exc if isinstance(exc, ValueError) else describe_failure(exc)
        self.panel.show_calibration(f"Cannot calibrate: {said}", False)

    def _fitted(self, candidate: Calibration) -> None:
        self.candidate = c = candidate
        if c.helps:
            verdict = "it helps beyond noise (the gain's interval lies above 0)"
        elif c.reversal_unsure:
            verdict = (f"it turns the model's order around, which {c.n} photos do not show surely enough (the "
                       f"model's SRCC would have to lie below {reversal_bar(c.n):.2f}); keep the model as it is")
        elif below_zero(c.gain_ci):
            verdict = "it is worse beyond noise; keep the model as it is"
        else:
            verdict = "it is not shown to help (the gain's interval includes 0); keep the model as it is"
        self.panel.show_calibration(
            calibration_in_words(c),
            c.helps,  # Apply is offered only for a fit that helps beyond noise
            details=f"Fitted on {c.n} rated photos with {c.min_votes} or more votes: {c.describe()}. On photos left "
                    f"out of every choice (nested {c.folds}-fold cross-validation): SRCC {c.cv_srcc:.3f}"
                    f"{_ci(c.cv_srcc_ci)} / PLCC {c.cv_plcc:.3f}, against {c.base_srcc:.3f}{_ci(c.base_srcc_ci)} / "
                    f"{c.base_plcc:.3f} for the model alone; gain {c.gain:+.3f}{_ci(c.gain_ci, sign=True)} (95 % "
                    f"paired bootstrap): {verdict}.",
        )

    def apply_calibration(self, calibration: Calibration | None, who: str | None = None) -> None:
        """Apply (None: remove) a calibration, ``who``'s decision (the panel's buttons ask the guard first)."""
        who = who or current_user()
        if self.is_busy():
            self.status.emit("Finish or cancel the running batch before changing the calibration")
            return
        ws, shown = self.workspace, self.shown_paths()

        def store():
            changed = ws.store_calibration(calibration, who)
            rows = ws.rows() if shown is None else score_rows(ws.db, ws.model_version_id, shown)
            return changed, {r["path"]: r["score"] for r in rows}

        def stored(answer) -> None:
            changed, scores = answer
            ws.use_calibration(calibration)  # new photos are scored with it from now on
            self.scores_changed.emit(scores)
            self.status.emit(f"{'Applied' if calibration else 'Removed'} site calibration: {changed} stored scores updated")
            self.candidate = None
            self.show_calibration()

        self.status.emit(f"{'Applying' if calibration else 'Removing'} the site calibration…")
        self.tasks.submit("calibration", store, on_done=stored)


def _ci(interval, sign: bool = False) -> str:
    if not interval:
        return ""
    fmt = "{:+.3f}" if sign else "{:.3f}"
    return f" [{fmt.format(interval[0])}, {fmt.format(interval[1])}]"
