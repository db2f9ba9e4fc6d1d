"""The Training panel (supervisor): fine-tune the current model on the station's ratings, watch
it learn, cancel it, read how the new version did on the site's test photos (with the interval
of the gain), register a version the fine-tune kept back, and switch between model versions
(or roll back).

Fine-tuning runs as a separate process (app.ui.finetune_process owns it), so the window stays
responsive and a crash or a cancel cannot take the app down; its command, progress files and
result are described in app.core.site.finetune_job. The current model stays in use until the
supervisor switches.

From a ./run.sh install the training pipeline (torch) is missing: the controller checks, the panel
then says what a fine-tune needs, keeps *Fine-tune* off and offers the one install command, whose
output it shows as it runs (the controller runs it).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.site.finetune_job import FinetuneJob, advice, install_hint, training_python
from ..core.site.finetune_job import details as outcome_details
from ..core.site.plain_words import ratings_in_words
from ..core.site.training_state import TrainingState
from ..core.stats import above_zero
from .calibration_box import CalibrationBox
from .curve_plot import CurvePlot
from .finetune_process import FinetuneOutcome, FinetuneProcess
from .training_setup_box import PipelineSetupBox
from .training_tables import RatedPhotosTable, VersionsTable
from .window_fit import bring_back, fit_on_screen, screen_share

# At least room for the curves and the versions table (where the screen has it), and on a large
# screen a good share of it: 900x760 left a 1920x1080 screen's window cramped and its table cut.
LEAST_SIZE = QSize(900, 760)
SCREEN_SHARE = (0.7, 0.8)  # of the free area's width and height

def is_candidate(v) -> bool:
    """A site fine-tune not shown to help: its test gain's interval does not lie above 0."""
    return v.srcc_after is not None and not above_zero(v.site_gain_ci)


def candidate_question(v) -> str:
    """Why a candidate is not advised, before the supervisor uses it anyway."""
    ci = v.site_gain_ci
    gain = v.srcc_after - v.srcc_before if v.srcc_before is not None else None
    shown = (f"gain {gain:+.3f}" + (f", between {ci[0]:+.3f} and {ci[1]:+.3f}" if ci else ", no interval")
             if gain is not None else "no test figures")
    n = v.site_test_n if v.site_test_n is not None else "?"
    return (f"{v.name} v{v.version} is not shown to help on the site's {n} test photos ({shown}): it may be no "
            "better than the model in use, or worse. Use it anyway?")


class TrainingPanel(QWidget):
    use_model = Signal(str)  # path of the version the supervisor switched to
    finished = Signal(bool)  # True when a fine-tune registered a new version
    python_chosen = Signal(str)
    # Site calibration acts on the model in use; the window does the work (it owns the workspace).
    calibration_fit_requested = Signal()
    python: str | None = None  # the Python the fine-tune runs in (None: none found); set per panel
    calibration_apply_requested = Signal()
    calibration_remove_requested = Signal()
    register_requested = Signal(dict)  # the report of a version the fine-tune kept back
    install_requested = Signal()  # install the training pipeline (the controller asks and runs it)
    details_toggled = Signal(bool)  # the supervisor showed or hid the figures (the controller remembers it)

    def __init__(self, db_url: str, base_model: Path, runs_dir: Path,
                 python_setting: str | None = None, config: Path | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Training")
        # No database reads here: the training controller hands over a TrainingState (show_state);
        # the URL only travels to the fine-tune process.
        self.db_url, self.base_model, self.runs_dir, self.config = db_url, Path(base_model), Path(runs_dir), config
        self.python = training_python(python_setting)
        self.run = FinetuneProcess(self)
        self.run.progressed.connect(self._show_progress)
        self.run.history.connect(self._show_history)
        self.run.ended.connect(self._ended)
        self._enough_ratings = False
        self._pipeline_ready = True  # until the controller's check says otherwise (a panel alone trusts its Python)

        self.base_label = QLabel()
        self.python_label = QLabel()
        self.python_label.setWordWrap(True)
        choose_python = QPushButton("Training Python…")
        choose_python.clicked.connect(self.choose_python)
        # Plain words lead; the figures and statistical terms behind them show only with Details.
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the figures behind the advice: rank correlations (SRCC, PLCC), "
                                       "intervals, rater screening, the curves of a fine-tune")
        self.details_button.toggled.connect(self._details_toggled)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 200)
        self.epochs.setValue(6)
        self._epochs_from_recipe = False  # set once from the recipe; the supervisor's choice then stays
        self.start_button = QPushButton("Fine-tune on the ratings")
        # A supervisor action: the controller puts its guard here (alone, the panel starts at once).
        self.guard = lambda what, then, refusal="Not done": then(None)
        self.start_button.clicked.connect(lambda: self.guard("start a fine-tune", lambda _who: self.start(),
                                                             "Not started"))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.requirement = QLabel()
        self.requirement.setWordWrap(True)
        # The same count as a meter: photos with enough votes, of the number a fine-tune needs.
        self.meter = QProgressBar()
        self.meter.setRange(0, 1)
        self.meter.setValue(0)
        self.meter.setFormat("Counting the rated photos…")
        # Shown only when the training Python lacks the pipeline: what is missing, and the install.
        self.setup = PipelineSetupBox()
        self.setup.install_requested.connect(self.install_requested)
        self.setup_label, self.install_button, self.install_output = self.setup.label, self.setup.button, self.setup.output
        self.ratings_table = RatedPhotosTable()
        self.screening = QLabel()  # how many photos and raters, whom screening left out
        self.status = QLabel("Idle.")
        self.status_details = QLabel()  # the figures behind a fine-tune's outcome
        self.plot = CurvePlot()
        self.register_button = QPushButton("Register this version anyway…")
        self.register_button.setToolTip("The fine-tune kept it back (worse on the test photos beyond noise); "
                                        "register it if you have reason to, with your name recorded")
        self.register_button.setVisible(False)
        self.register_button.clicked.connect(self._register_clicked)
        self._kept_back: dict | None = None
        self._versions: dict = {}  # path -> VersionRow of the versions table

        self.table = VersionsTable()
        self.use_button = QPushButton("Use selected version")
        self.use_button.clicked.connect(self.use_selected)

        self.calibration = CalibrationBox()
        self.calibration.fit_requested.connect(self.calibration_fit_requested)
        self.calibration.apply_requested.connect(self.calibration_apply_requested)
        self.calibration.remove_requested.connect(self.calibration_remove_requested)
        self.fit_button, self.apply_button, self.remove_button = (
            self.calibration.fit_button, self.calibration.apply_button, self.calibration.remove_button)
        self.calibration_label, self.calibration_details = self.calibration.label, self.calibration.details
        # The Details half of each text: hidden with the figures, and while it has nothing to say.
        self.screening_details = QLabel()
        self._detail_texts = (self.screening_details, self.status_details, *self.calibration.detail_texts)
        for label in (self.requirement, self.screening, self.status, self.screening_details, self.status_details):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for label in self._detail_texts:
            label.setStyleSheet("color: palette(dark);")

        self._lay_out(choose_python)
        self._placed = False  # sized and placed on the screen at the first show_in_front
        self.set_base_model(self.base_model)
        self._show_python()
        self.set_details(False)

    def _lay_out(self, choose_python: QPushButton) -> None:
        run_row = QHBoxLayout()
        for w in (QLabel("Epochs"), self.epochs, self.start_button, self.cancel_button):
            run_row.addWidget(w)
        run_row.addStretch(1)
        python_row = QHBoxLayout()
        python_row.addWidget(self.python_label, 1)
        python_row.addWidget(choose_python)
        python_row.addWidget(self.details_button)
        # Everything in one scroll area: the panel is taller than a 1280x800 screen's free area, and
        # the window is fitted to that area (app.ui.window_fit), so its lower half must scroll.
        content = QWidget()
        scroll = QScrollArea()
        scroll.setObjectName("training content")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        layout = QVBoxLayout(content)
        layout.addWidget(self.base_label)
        layout.addLayout(python_row)
        layout.addWidget(self.setup, 1)
        layout.addWidget(self.requirement)
        layout.addWidget(self.meter)
        layout.addWidget(self.ratings_table, 1)
        layout.addWidget(self.screening)
        layout.addWidget(self.screening_details)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.status_details)
        layout.addWidget(self.register_button)
        layout.addWidget(self.plot, 1)
        layout.addWidget(QLabel("Model versions (switch to roll back; thresholds are kept per version)"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.use_button, 0, Qt.AlignLeft)
        layout.addWidget(self.calibration)

    def show_in_front(self) -> None:
        """Show the window on the screen, in front: at its first opening a good share of the
        screen's free area and never more (a 1280x800 station screen cut it off), restored if it
        was minimised."""
        if not self._placed:
            fit_on_screen(self, screen_share(self, LEAST_SIZE, *SCREEN_SHARE))
            self._placed = True
        bring_back(self)

    # --- plain words, or the figures too ----------------------------------------------------
    def set_details(self, shown: bool) -> None:
        """Show (or hide) the figures and statistical terms behind the plain words."""
        if self.details_button.isChecked() != shown:
            self.details_button.setChecked(shown)  # toggled: comes back here through _details_toggled
            return
        self.table.set_details(shown)
        self.ratings_table.set_details(shown)
        self.plot.setVisible(shown)
        for label in self._detail_texts:
            label.setVisible(shown and bool(label.text()))

    def details_shown(self) -> bool:
        return self.details_button.isChecked()

    def _details_toggled(self, shown: bool) -> None:
        self.set_details(shown)
        self.details_toggled.emit(shown)

    def _say(self, plain: QLabel, text: str, details_label: QLabel, details_text: str) -> None:
        plain.setText(text)
        details_label.setText(details_text)
        details_label.setVisible(self.details_shown() and bool(details_text))

    # --- state shown ----------------------------------------------------------------------
    def set_base_model(self, path: Path) -> None:
        self.base_model = Path(path)
        self.base_label.setText(f"Fine-tunes: {self.base_model.name}")

    def _show_python(self) -> None:
        if self.python:
            self.python_label.setText(f"Training Python: {self.python}")
        else:
            self.python_label.setText(install_hint())
        self._update_start()

    def _update_start(self) -> None:
        self.start_button.setEnabled(self.python is not None and not self.run.is_running() and self._enough_ratings
                                     and self._pipeline_ready)

    def choose_python(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python with the training pipeline")
        if path:
            self.python = path
            self._show_python()
            self.python_chosen.emit(path)

    def show_state(self, state: TrainingState) -> None:
        """What the station has: the ratings a fine-tune needs and the model versions."""
        self._show_requirement(state)
        self._versions = {v.path: v for v in state.versions}
        self.table.show_versions(state.versions)

    def _show_requirement(self, state: TrainingState) -> None:
        """Say up front what a fine-tune needs and how far the station is from it."""
        photos, votes = state.photos_needed, state.votes_needed
        self._enough_ratings = state.enough_ratings
        if not self._epochs_from_recipe:
            self.epochs.setValue(state.recipe_epochs)
            self._epochs_from_recipe = True
        self.ratings_table.show_rated(state.rated, votes)
        self._say(self.screening, ratings_in_words(len(state.rated), state.raters, list(state.left_out)),
                  self.screening_details, state.screening)
        self.meter.setRange(0, max(1, photos))
        self.meter.setValue(min(state.photos_rated, photos))
        self.meter.setFormat(f"{state.photos_rated} of {photos} photos have {votes}+ votes"
                             + (": enough for a fine-tune" if self._enough_ratings else ""))
        self.requirement.setText(
            f"Fine-tuning needs at least {photos} photos with {votes} or more votes each (after rater "
            f"screening); this station has {state.photos_rated}."
            + ("" if self._enough_ratings else " Rate more photos first (Ctrl+L)."))
        self._update_start()

    # --- the training pipeline ---------------------------------------------------------------
    def show_pipeline(self, missing: list[str], command: str | None) -> None:
        """What the training Python lacks (nothing: ready) and the command that installs it."""
        self._pipeline_ready = not missing
        self.setup.show_missing(self.python, missing, command)
        self._update_start()

    def install_started(self, command: str) -> None:
        self.setup.started(command)
        self.status.setText("Installing the training pipeline (minutes; the window stays usable) …")

    @Slot(str)
    def append_install_output(self, line: str) -> None:
        self.setup.append(line)

    def install_finished(self, message: str) -> None:
        self.setup.finished(message)
        self.status.setText(message)

    # --- the run (the process is FinetuneProcess's) ------------------------------------------
    @property
    def job(self) -> FinetuneJob | None:
        """The last fine-tune started (its folder holds its curves and report)."""
        return self.run.job

    def start(self) -> None:
        if self.run.is_running() or not self.python:
            return
        job = FinetuneJob.in_folder(self.python, self.db_url, self.base_model, self.runs_dir,
                                    epochs=self.epochs.value(), config=self.config)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.plot.set_series({})
        self.show_kept_back(None)
        self._say(self.status, f"Fine-tuning {self.base_model.name} in {job.out_dir} …", self.status_details, "")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.run.start(job)  # last: a start that fails at once ends the run and sets the buttons back

    def _show_progress(self, epoch: int, epochs: int, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(f"epoch {epoch}/{epochs}  %p%")

    def _show_history(self, history: list[dict]) -> None:
        self.plot.set_series({
            "loss": [h.get("loss_total", float("nan")) for h in history],
            "val SRCC": [h["val_srcc"] for h in history if "val_srcc" in h],
        })

    def cancel(self) -> None:
        """Stop the run. The model in use is untouched."""
        if self.run.is_running():
            self.status.setText("Cancelling …")
            self.run.cancel()

    def _ended(self, outcome: FinetuneOutcome) -> None:
        if outcome.kind == "cancelled":
            self.status.setText("Cancelled. The model in use did not change.")
        elif outcome.kind == "done":
            report = outcome.report
            self.progress.setValue(1000)
            self._say(self.status, f"Done: {Path(report.get('model', '?')).name}. {advice(report)}",
                      self.status_details, outcome_details(report))
            self.show_kept_back(None if outcome.registered else report)
        else:
            self.status.setText(f"Fine-tuning failed (the model in use did not change): {outcome.reason}")
        self.cancel_button.setEnabled(False)
        self._show_python()
        self.finished.emit(outcome.registered)  # the controller shows the station's new state

    def show_kept_back(self, report: dict | None) -> None:
        """Offer to register a version the fine-tune did not register (None: nothing to offer)."""
        self._kept_back = report
        self.register_button.setVisible(report is not None)
        self.register_button.setEnabled(report is not None)

    def _register_clicked(self) -> None:
        if self._kept_back is not None:
            self.register_requested.emit(self._kept_back)

    def confirm(self, title: str, text: str) -> bool:
        """Ask the supervisor a yes/no question (No is the default)."""
        return QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No,
                                    QMessageBox.No) == QMessageBox.Yes

    def show_calibration(self, text: str, can_apply: bool, details: str = "") -> None:
        """The calibration in plain words, and its figures for Details."""
        self._say(self.calibration_label, text, self.calibration_details, details)
        self.apply_button.setEnabled(can_apply)

    def use_selected(self) -> None:
        path = self.table.selected_path()
        if path is None:
            return
        v = self._versions.get(path)
        if v is not None and not v.active and is_candidate(v) and not self.confirm(
                "Use a candidate version?", candidate_question(v)):
            return
        self.use_model.emit(path)

    def is_running(self) -> bool:
        return self.run.is_running()

    def closeEvent(self, event) -> None:
        self.run.stop_and_wait()
        super().closeEvent(event)
