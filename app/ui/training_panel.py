"""The Training panel (supervisor): fine-tune the current model on the station's ratings, watch
it learn, cancel it, read how the new version did on the site's test photos (with the interval
of the gain), register a version the fine-tune kept back, and switch between model versions
(or roll back).

Fine-tuning runs as a separate process (QProcess), so the window stays responsive and a crash
or a cancel cannot take the app down; its command, progress files and result are described in
app.core.site.finetune_job. The current model stays in use until the supervisor switches.

From a ./run.sh install the training pipeline (torch) is missing: the controller checks, the panel
then says what a fine-tune needs, keeps *Fine-tune* off and offers the one install command, whose
output it shows as it runs (the controller runs it).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QProcess, QProcessEnvironment, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.site.finetune_job import (
    FinetuneJob,
    install_hint,
    parse_progress,
    source_root,
    summary,
    training_python,
)
from ..core.site.training_state import TrainingState
from .curve_plot import CurvePlot
from .window_fit import bring_back, fit_on_screen

WANTED_SIZE = QSize(900, 760)  # room for the curves and the versions table, where the screen has it

# Each figure in its own column with the number of photos behind it: LIVEC validation (the
# shipped recipe's), the site validation that chose a fine-tune's epoch, the site test.
COLUMNS = ("Model", "Version", "Helps the site?", "Registered", "LIVEC val SRCC (n)", "Site val SRCC (n)",
           "Site test SRCC before → after (n)", "Test gain, 95 % interval", "In use")


def _fmt(value: float | None) -> str:
    return "–" if value is None or value != value else f"{value:.3f}"


def _with_n(value: float | None, n: int | None) -> str:
    if value is None:
        return "–"
    return f"{_fmt(value)} ({n if n is not None else '?'})"


def version_cells(v) -> tuple[str, ...]:
    """What the versions table shows for one VersionRow."""
    test = "–"
    if v.srcc_after is not None:
        test = f"{_fmt(v.srcc_before)} → {_fmt(v.srcc_after)} ({v.site_test_n if v.site_test_n is not None else '?'})"
    gain = "–"
    if v.srcc_after is not None and v.srcc_before is not None:
        gain = f"{v.srcc_after - v.srcc_before:+.3f}"
        gain += f" [{v.site_gain_ci[0]:+.3f}, {v.site_gain_ci[1]:+.3f}]" if v.site_gain_ci else " [none]"
    return (v.name, v.version, helps(v), v.registered_at.strftime("%Y-%m-%d %H:%M"), _with_n(v.val_srcc, v.val_n),
            _with_n(v.site_val_srcc, v.site_val_n), test, gain, "yes" if v.active else "")


def is_candidate(v) -> bool:
    """A site fine-tune not shown to help: its test gain's interval does not lie above 0."""
    return v.srcc_after is not None and not (v.site_gain_ci and v.site_gain_ci[0] > 0)


def helps(v) -> str:
    """Whether a version helps the site, in a word or two (none for a version not made here)."""
    if v.srcc_after is None:
        return ""
    if v.site_gain_ci and v.site_gain_ci[1] < 0:
        return "no: worse beyond noise"
    return "yes, beyond noise" if not is_candidate(v) else "not shown: candidate"


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

    def __init__(self, db_url: str, base_model: Path, runs_dir: Path,
                 python_setting: str | None = None, config: Path | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Training")
        # No database reads here: the training controller hands over a TrainingState (show_state);
        # the URL only travels to the fine-tune process.
        self.db_url, self.base_model, self.runs_dir, self.config = db_url, Path(base_model), Path(runs_dir), config
        self.python = training_python(python_setting)
        self.job: FinetuneJob | None = None
        self.process: QProcess | None = None
        self._output_tail = ""
        self._cancelled = False
        self._enough_ratings = False
        self._pipeline_ready = True  # until the controller's check says otherwise (a panel alone trusts its Python)

        self.base_label = QLabel()
        self.python_label = QLabel()
        self.python_label.setWordWrap(True)
        choose_python = QPushButton("Training Python…")
        choose_python.clicked.connect(self.choose_python)
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
        self.setup_label = QLabel()
        self.setup_label.setWordWrap(True)
        self.setup_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.install_button = QPushButton("Install the training pipeline…")
        self.install_button.clicked.connect(self.install_requested)
        self.install_output = QPlainTextEdit()
        self.install_output.setReadOnly(True)
        self.install_output.setMaximumBlockCount(2000)  # pip's output, bounded
        self.install_output.setPlaceholderText("The install's output appears here.")
        self.install_output.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        for w in (self.setup_label, self.install_button, self.install_output):
            w.setVisible(False)
        # The site's ratings as fine-tuning and calibration see them: MOS ± 95 % CI and votes per
        # photo (rejected raters left out), and what rater screening could judge.
        self.ratings_table = QTableWidget(0, 3)
        self.ratings_table.setHorizontalHeaderLabels(("Rated photo", "MOS ± 95 % CI (0-100)", "Votes"))
        self.ratings_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.ratings_table.horizontalHeader().setStretchLastSection(True)
        self.screening = QLabel()
        self.screening.setWordWrap(True)
        self.status = QLabel("Idle.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.plot = CurvePlot()
        self.register_button = QPushButton("Register this version anyway…")
        self.register_button.setToolTip("The fine-tune kept it back (worse on the test photos beyond noise); "
                                        "register it if you have reason to, with your name recorded")
        self.register_button.setVisible(False)
        self.register_button.clicked.connect(self._register_clicked)
        self._kept_back: dict | None = None
        self._versions: dict = {}  # path -> VersionRow of the versions table

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.use_button = QPushButton("Use selected version")
        self.use_button.clicked.connect(self.use_selected)

        self.calibration_label = QLabel("Site calibration: none.")
        self.calibration_label.setWordWrap(True)
        self.fit_button = QPushButton("Fit calibration on the ratings")
        self.apply_button = QPushButton("Apply")
        self.remove_button = QPushButton("Remove")
        self.apply_button.setEnabled(False)
        self.fit_button.clicked.connect(self.calibration_fit_requested)
        self.apply_button.clicked.connect(self.calibration_apply_requested)
        self.remove_button.clicked.connect(self.calibration_remove_requested)

        run_row = QHBoxLayout()
        for w in (QLabel("Epochs"), self.epochs, self.start_button, self.cancel_button):
            run_row.addWidget(w)
        run_row.addStretch(1)
        python_row = QHBoxLayout()
        python_row.addWidget(self.python_label, 1)
        python_row.addWidget(choose_python)
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
        layout.addWidget(self.setup_label)
        layout.addWidget(self.install_button, 0, Qt.AlignLeft)
        layout.addWidget(self.install_output, 1)
        layout.addWidget(self.requirement)
        layout.addWidget(self.meter)
        layout.addWidget(self.ratings_table, 1)
        layout.addWidget(self.screening)
        layout.addLayout(run_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.register_button)
        layout.addWidget(self.plot, 1)
        layout.addWidget(QLabel("Model versions (switch to roll back; thresholds are kept per version)"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.use_button)
        calibration_row = QHBoxLayout()
        for w in (self.fit_button, self.apply_button, self.remove_button):
            calibration_row.addWidget(w)
        calibration_row.addStretch(1)
        about_calibration = QLabel("Quick site calibration (seconds, no training): a monotone map of the model's "
                                   "score to the site's MOS, plus a ridge on its embedding where that earns its "
                                   "place, checked by nested cross-validation; Apply is offered only when it helps "
                                   "beyond noise")
        about_calibration.setWordWrap(True)  # on one line it made the window 1,490 px wide
        layout.addWidget(about_calibration)
        layout.addLayout(calibration_row)
        layout.addWidget(self.calibration_label)

        self._placed = False  # sized and placed on the screen at the first show_in_front
        self.poll = QTimer(self)
        self.poll.setInterval(1000)
        self.poll.timeout.connect(self.refresh_curves)
        self.set_base_model(self.base_model)
        self._show_python()

    def show_in_front(self) -> None:
        """Show the window on the screen, in front: at its first opening no larger than the
        screen's free area (a 1280x800 station screen cut it off), restored if it was minimised."""
        if not self._placed:
            fit_on_screen(self, WANTED_SIZE)
            self._placed = True
        bring_back(self)

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
        self.start_button.setEnabled(self.python is not None and self.process is None and self._enough_ratings
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
        self._show_versions(state.versions)

    def _show_requirement(self, state: TrainingState) -> None:
        """Say up front what a fine-tune needs and how far the station is from it."""
        photos, votes = state.photos_needed, state.votes_needed
        self._enough_ratings = state.enough_ratings
        if not self._epochs_from_recipe:
            self.epochs.setValue(state.recipe_epochs)
            self._epochs_from_recipe = True
        self.ratings_table.setRowCount(len(state.rated))
        for r, m in enumerate(sorted(state.rated.values(), key=lambda m: m.image)):
            ci = "?" if m.n < 2 else f"{m.ci100:.0f}"
            for c, text in enumerate((Path(m.image).name, f"{m.mos100:.0f} ± {ci}", str(m.n))):
                self.ratings_table.setItem(r, c, QTableWidgetItem(text))
        self.ratings_table.resizeColumnsToContents()
        self.screening.setText(state.screening)
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
        """What the training Python lacks (nothing: ready) and the command that installs it (None:
        nothing this program can run, as in a bundle: the install hint says what to do)."""
        self._pipeline_ready = not missing
        if missing:
            how = (f"Install it once with this command in the program's folder (it downloads a few GB, so this PC "
                   f"needs the internet or the site's package mirror):\n    {command}\nThe button runs it for you."
                   if command else install_hint())
            self.setup_label.setText(
                f"Fine-tuning needs the training pipeline (torch and timm), which ./run.sh leaves out to keep the "
                f"program small; {self.python} lacks {' and '.join(missing)}. {how}")
        self.setup_label.setVisible(bool(missing))
        self.install_button.setVisible(bool(missing) and command is not None)
        self.install_output.setVisible(bool(missing) and bool(self.install_output.toPlainText()))
        self._update_start()

    def install_started(self, command: str) -> None:
        self.install_button.setEnabled(False)
        self.install_output.clear()
        self.install_output.setVisible(True)
        self.install_output.appendPlainText(f"$ {command}")
        self.status.setText("Installing the training pipeline (minutes; the window stays usable) …")

    @Slot(str)
    def append_install_output(self, line: str) -> None:
        self.install_output.appendPlainText(line)

    def install_finished(self, message: str) -> None:
        self.install_button.setEnabled(True)
        self.install_output.appendPlainText(f"\n{message}")  # the outcome under the output it sums up
        self.status.setText(message)

    def _show_versions(self, rows) -> None:
        self._versions = {v.path: v for v in rows}
        self.table.setRowCount(len(rows))
        for r, v in enumerate(rows):
            for c, text in enumerate(version_cells(v)):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, v.path)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def refresh_curves(self) -> None:
        if self.job is None:
            return
        history = self.job.history()
        self.plot.set_series({
            "loss": [h.get("loss_total", float("nan")) for h in history],
            "val SRCC": [h["val_srcc"] for h in history if "val_srcc" in h],
        })

    # --- the run --------------------------------------------------------------------------
    def start(self) -> None:
        if self.process is not None or not self.python:
            return
        self.job = FinetuneJob.in_folder(self.python, self.db_url, self.base_model, self.runs_dir,
                                         epochs=self.epochs.value(), config=self.config)
        self.job.out_dir.mkdir(parents=True, exist_ok=True)
        cmd = self.job.command()
        process = QProcess(self)
        process.setWorkingDirectory(str(source_root()))
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        for key, value in self.job.environment().items():
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.readyReadStandardError.connect(self._read_stderr)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        self.process, self._output_tail, self._cancelled = process, "", False
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.plot.set_series({})
        self.show_kept_back(None)
        self.status.setText(f"Fine-tuning {self.base_model.name} in {self.job.out_dir} …")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        process.start(cmd[0], cmd[1:])
        self.poll.start()

    def _read_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        self._output_tail = (self._output_tail + text)[-4000:]
        progress = parse_progress(text)
        if progress:
            epoch, epochs, fraction = progress
            self.progress.setValue(int(fraction * 1000))
            self.progress.setFormat(f"epoch {epoch}/{epochs}  %p%")

    def _read_stdout(self) -> None:
        self._output_tail = (self._output_tail + bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace"))[-4000:]

    def cancel(self) -> None:
        """Stop the run: politely first, then for good. The model in use is untouched."""
        if self.process is None:
            return
        self._cancelled = True
        self.status.setText("Cancelling …")
        self.process.terminate()
        QTimer.singleShot(5000, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if self.process is not None and self.process.state() != QProcess.NotRunning:
            self.process.kill()

    def _failed_to_start(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.status.setText(f"Could not start {self.python}: {self.process.errorString()}\n{install_hint()}")
            self._reset(False)

    def _finished(self, code: int, _status) -> None:
        self.refresh_curves()
        report = self.job.report() if self.job else None
        if self._cancelled:
            self.status.setText("Cancelled. The model in use did not change.")
            self._reset(False)
        elif code == 0 and report:
            self.progress.setValue(1000)
            self.status.setText(f"Done: {Path(report.get('model', '?')).name}. {summary(report)}")
            self.show_kept_back(None if report.get("registered") else report)
            self._reset(bool(report.get("registered")))
        else:
            lines = [ln for ln in self._output_tail.replace("\r", "\n").splitlines() if ln.strip() and "it/s" not in ln]
            said = [ln[len("error: "):] for ln in lines if ln.startswith("error: ")]
            # A supervisor reads what went wrong, never a traceback (train.log in the run keeps it).
            reason = said[-1] if said else next((ln for ln in reversed(lines) if not ln.startswith((" ", "Traceback"))),
                                                 f"the process ended with code {code}")
            self.status.setText(f"Fine-tuning failed (the model in use did not change): {reason}")
            self._reset(False)

    def _reset(self, success: bool) -> None:
        self.poll.stop()
        if self.process is not None:
            self.process.deleteLater()
        self.process = None
        self.cancel_button.setEnabled(False)
        self._show_python()
        self.finished.emit(success)  # the controller shows the station's new state

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

    def show_calibration(self, text: str, can_apply: bool) -> None:
        self.calibration_label.setText(text)
        self.apply_button.setEnabled(can_apply)

    def use_selected(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        path = self.table.item(row, 0).data(Qt.UserRole)
        v = self._versions.get(path)
        if v is not None and not v.active and is_candidate(v) and not self.confirm(
                "Use a candidate version?", candidate_question(v)):
            return
        self.use_model.emit(path)

    def is_running(self) -> bool:
        return self.process is not None

    def closeEvent(self, event) -> None:
        if self.process is not None:
            self.cancel()
            self.process.waitForFinished(6000)
        super().closeEvent(event)
