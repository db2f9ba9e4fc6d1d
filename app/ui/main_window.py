"""The main window: it lays out the source, gallery, viewer and panels, and wires them to the
controllers that do each job: ModelController (which model runs), OperatorController (who is
signed in), BatchController (the folder's batch), CameraController (the camera's batch and the
tabs between the two), Navigation (which photo the viewer shows), CompareController, BatchOutputs
(reviews and exports), TrainingController, StationSyncTimer (what other stations changed).

The window does no I/O of its own: the Workspace (app.core) opens models and the database, and
all of the window's background work (batches, the viewer's decoding, every database statement or
file write) belongs to its one TaskOwner (app.ui.tasks), whose answers come back on the GUI
thread and whose ``drain`` empties it before the database closes. tests/gui/conftest.py fails a
test in which window code runs a database statement on the GUI thread.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLockFile, QPoint, QSettings
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from ..core.paths import user_data_dir
from ..core.workspace import Workspace
from .batch_controller import BatchController
from .batch_outputs import BatchOutputs
from .batch_tabs import FOLDER
from .camera_batch import CameraBatch
from .camera_controller import CameraController
from .exif_panel import ExifPanel
from .gallery import GalleryFilter, GalleryModel, GalleryView
from .labeling_panel import LabelingPanel
from .menus import build_menus
from .message_log import ERROR, WARNING, MessageLog
from .model_controller import ModelController
from .navigation import Navigation
from .operator_controller import OperatorController
from .rating_controller import RatingController
from .site_reason_codes import SiteReasonCodes
from .station_sync import StationSyncTimer
from .status_line import StatusLine
from .tasks import TaskOwner
from .thresholds_controller import ThresholdsController
from .thresholds_panel import ThresholdsPanel
from .training_controller import TrainingController
from .training_panel import TrainingPanel
from .viewer import Viewer
from .window_layout import build_layout

SECOND_WINDOW_OFFSET = 48  # px right and down of the first window

class MainWindow(QMainWindow):
    def __init__(self, model_path: Path, database: str | Path, settings: QSettings | None = None,
                 runs_dir: Path | None = None):
        super().__init__()
        # Fine-tune runs (each a folder with its new model version) live beside the user's data.
        self.runs_dir = runs_dir or user_data_dir() / "finetune"
        self.setWindowTitle("MobileIQA Inspector")
        self.settings = settings or QSettings("MobileIQA", "Inspector")
        self.workspace = Workspace(database)
        self.tasks = TaskOwner(self)  # all of the window's background work, off the GUI thread
        self.setStatusBar(StatusLine(self))  # long messages elided, whole in its tooltip
        show = self.statusBar().showMessage
        # Errors and warnings: shown in the status bar, and kept with their time in the Messages panel.
        self.messages = MessageLog(self)
        self.tasks.errored.connect(lambda _key, message: self.say(ERROR, f"Failed: {message}"))
        # Who is at the station: named on every decision; supervisor actions ask for a supervisor.
        self.operators = OperatorController(self.workspace.db, self.tasks, self.settings, self)
        self.operators.status.connect(show)
        self.operators.load()  # before the model: a supervisor action after load knows whom to ask
        self.models = ModelController(self.workspace, self.tasks, self.operators.approve_model, parent=self,
                                      confirm=self._confirm)
        self.models.loaded.connect(self._model_loaded)
        self.models.refused.connect(self._model_refused)
        self._after_load: str | None = None  # "open last folder" or "reopen" once the model is in
        self._confirmed_quit = False  # Quit mid-batch was confirmed: the close that follows asks nothing
        self.training_controller = TrainingController(
            self.workspace, self.runs_dir, self.settings, self.is_busy, tasks=self.tasks,
            shown_paths=lambda: [it.path for it in self.model.items], guard=self.operators.require_supervisor,
            parent=self)
        self.training_controller.status.connect(show)
        self.training_controller.switch_requested.connect(lambda path, who: self.switch_model(path, chosen_by=who))
        self.training_controller.scores_changed.connect(self.scores_changed)

        # Two batches beside each other, each with its own photos: the folder's and the camera's.
        # ``model`` is the one the gallery shows (app.ui.batch_tabs switches it).
        self.folder_model = self.model = GalleryModel(self)
        self.camera = CameraBatch(self.workspace, self.tasks, self.settings, lambda: self.panel.thresholds(), self)
        for batch in (self.folder_model, self.camera.model):
            batch.reviews_changed.connect(self._reviews_changed)
        self.camera.said.connect(lambda level, text: self.say(level or None, text))
        # The site's reason codes (the database's, shared by its stations) for the accept / reject question.
        self.reason_codes = SiteReasonCodes(self.workspace.db, self.tasks, self.settings,
                                            self.operators.require_supervisor, self)
        self.reason_codes.status.connect(show)
        self.reason_codes.load()
        # Reviews and exports of the batch's results.
        self.outputs = BatchOutputs(self.workspace, self.tasks, self.model, lambda: self.navigation.current_path(),
                                    self.operators.recorded_name, self.settings, parent=self,
                                    selected_paths=lambda: self.gallery.selected_paths(), reason_codes=self.reason_codes)
        self.outputs.status.connect(show)
        self.outputs.failed.connect(lambda message: self.messages.add(ERROR, message))  # said by ``status`` too
        self.proxy = GalleryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.gallery = GalleryView()
        self.gallery.setModel(self.proxy)
        self.viewer = Viewer()
        self.panel = ThresholdsPanel()
        self.exif_panel = ExifPanel()
        build_layout(self)
        self._build_controllers()
        build_menus(self)
        self._follow_the_site()
        self._restore_geometry()
        # The catalogue: once its model is in, the window opens on the last session's folder. Its
        # photos scored and unchanged come from the database (no rescoring); new or changed ones are scored.
        self._after_load = "open last folder"
        self.open_start_model(Path(model_path))
        self.station_sync.start()

    def _build_controllers(self) -> None:
        """Which photo is shown, the folder's batch, the camera's, the thresholds, rating: each a
        controller of its own."""
        show = self.statusBar().showMessage
        self.profiles = ThresholdsController(self.workspace, self.tasks, self.panel, self.viewer,
                                             (self.folder_model, self.camera.model), self.station_status,
                                             self.operators.require_supervisor, parent=self)
        self.profiles.status.connect(show)
        self.rating = RatingController(self, self.workspace, self.tasks, self.settings,
                                       lambda: [it.path for it in self.model.items if it.status == "ok"],
                                       lambda: self.operators.current.name if self.operators.current else None)
        self.rating.status.connect(show)
        self.rating.ratings_changed.connect(self.training_controller.ratings_changed)
        self.navigation = Navigation(self.workspace, self.tasks, self.settings, self.gallery, self.proxy,
                                     self.viewer, (self.exif_panel, self.exif_dock), self.messages,
                                     batch=lambda: self.model, thresholds=self.panel.thresholds, parent=self)
        self.navigation.status.connect(show)
        self.gallery_controls.narrowed.connect(self.navigation.narrowed)
        self.filter_box.currentTextChanged.connect(lambda _show: self.navigation.narrowed())
        self.batch = BatchController(self, self.workspace, self.tasks, self.settings, self.folder_model,
                                     self.batches, self.panel.thresholds, self.messages, self.models.busy,
                                     self.open_button, self.recursive, self.watch, self.progress, self.cancel_button)
        self.batch.status.connect(show)
        self.batch.started.connect(self.outputs.batch_started)
        self.batch.added.connect(lambda: self.batches.shown == FOLDER and self.navigation.show_first())
        self.batch.counts_changed.connect(self._refresh_counts)
        self.batch.ended.connect(self.navigation.select_remembered)
        self.batch.ended.connect(self.outputs.show_reviews)
        self.batch.ended.connect(lambda: self.thumbnails.want(self.gallery.thumb_size()))  # stored at 128 px
        self.camera_controller = CameraController(self, self.camera, self.camera_panel, self.batches, self.batch,
                                                  self.outputs, self.settings, lambda: self.workspace.engine is not None)
        self.camera_controller.added.connect(self.navigation.show_first)
        self.camera_controller.counts_changed.connect(self._refresh_counts)

    def _follow_the_site(self) -> None:
        """Stations sharing one database follow each other's supervisor (model version,
        thresholds); a station opening joins the site's version rather than imposing its own last one."""
        sync = self.station_sync = StationSyncTimer(self.workspace, self.tasks,
                                                    lambda: self.is_busy() or self.models.busy(), parent=self)
        sync.model_switch.connect(self.follow_site_model)
        sync.thresholds_changed.connect(self.profiles.saved_elsewhere)
        sync.profile_changed.connect(self.profiles.show_profile)
        sync.profile_changed.connect(lambda _name: self.profiles.read_profiles())  # saved at another station
        sync.reviews_changed.connect(self.outputs.show_reviews)
        sync.status.connect(self.statusBar().showMessage)
        sync.timer.timeout.connect(self.reason_codes.refresh)  # a supervisor's change at another station

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        # A second window of this station (same settings) would open exactly on top of the first,
        # hiding it: it opens offset. A lock file says whether another window is open (a dead
        # window's lock is stale and taken over).
        self._window_lock = QLockFile(str(Path(self.settings.fileName()).with_name("inspector-window.lock")))
        if not self._window_lock.tryLock(0) and self._window_lock.error() == QLockFile.LockFailedError:
            self.move(self.pos() + QPoint(SECOND_WINDOW_OFFSET, SECOND_WINDOW_OFFSET))
        state = self.settings.value("window_state")  # which panels are open, and where
        if state is not None:
            self.restoreState(state)

    # --- the model ---------------------------------------------------------------------------
    def open_start_model(self, default: Path) -> None:
        """A station opens on the version the site runs; without a site choice, its last model,
        else the bundled one (ModelController.load_start_model)."""
        remembered = Path(self.settings.value("model_path", str(default)))
        self.statusBar().showMessage("Loading the model…")
        self.models.load_start_model(default, remembered, self._site_model_unavailable)

    def _site_model_unavailable(self, site) -> None:
        self._after_load = None
        self.say(ERROR,
            f"The site runs {site.name} v{site.version}, which this station cannot load from {site.path}; "
            "nothing is scored here until it can (or a supervisor chooses another model)")

    def load_model(self, path: Path, fallback: Path | None = None, site_choice: bool = False,
                   chosen_by: str | None = None) -> None:
        """Verify and switch to the model at ``path`` off the GUI thread; ``loaded`` or ``refused``
        follows (a refused model keeps the one in use). ``chosen_by``: the supervisor of a site's choice."""
        self.models.load(Path(path), Path(fallback) if fallback else None, site_choice, chosen_by=chosen_by)

    def _model_loaded(self, model, path: Path) -> None:
        self.settings.setValue("model_path", str(path))
        self.viewer.set_views(int(model.card["views"]))
        self.station_status.show_model(model.name, str(model.version))
        self.profiles.model_loaded()
        self.statusBar().showMessage(f"Model {model.name} v{model.version} ({model.card['backbone']}, {model.provider})")
        if self.workspace.notice:  # kept in Messages: the folder opening next replaces the status line
            self.say(WARNING, self.workspace.notice)
        then, self._after_load = self._after_load, None
        held = self.batch.take_held()
        last = self.settings.value("last_folder")
        if held is not None:  # what the person asked for while the model loaded comes first
            held()
        elif then == "open last folder" and last and Path(last).is_dir():
            self.batch.open_folder(Path(last))
        elif then == "reopen":
            # The badges must be this model's: the folder is read again, photos this model
            # already scored come from the database, the others are scored now.
            if last and Path(last).is_dir():
                self.batch.open_folder(Path(last))
            else:
                self.folder_model.clear()
        self.camera.reload()  # the camera's batch, under this model (stored results reused)
        self.station_sync.switch_ended(True)  # a site's switch followed: said last

    def _model_refused(self, message: str) -> None:
        self._after_load = None
        self.batch.take_held()  # a batch held for this model never starts
        self.say(ERROR, message)
        self.station_sync.switch_ended(False)  # a site's switch this station could not follow: said last

    def _show_operator(self) -> None:
        self.station_status.show_operator(self.operators.current, self.operators.last)

    def say(self, level: str | None, text: str) -> None:
        """Show ``text`` in the status bar; an ERROR or a WARNING is kept in the Messages panel too."""
        self.statusBar().showMessage(text)
        if level is not None:
            self.messages.add(level, text)

    def cancel(self) -> None:
        """Stop the folder's batch and the camera (the photos and frames so far are kept)."""
        self.batch.cancel()
        self.camera.stop()

    def is_busy(self) -> bool:
        return self.batch.busy or self.camera.busy

    def _refresh_counts(self) -> None:
        self.panel.set_scores(self.model.scores(), self.model.decisions())

    def _reviews_changed(self) -> None:
        self._refresh_counts()
        shown = self.viewer.outcome.record.path if self.viewer.outcome is not None else None
        if shown is not None and self.navigation.is_current(shown) and self.model.item(shown) is not None:
            self.viewer.show_review(self.model.item(shown).review)

    def scores_changed(self, scores: dict) -> None:
        """Stored scores changed (calibration applied or removed): refresh what shows them."""
        for batch in (self.folder_model, self.camera.model):
            batch.set_scores(scores, self.workspace.thresholds)
        self._refresh_counts()
        self.navigation.reopen()

    def open_training(self) -> None:
        """The supervisor's Training panel: fine-tune, switch or roll back versions, calibrate."""
        self.training_controller.open()

    @property
    def training(self) -> TrainingPanel | None:
        return self.training_controller.panel

    @property
    def labeling(self) -> LabelingPanel | None:
        return self.rating.panel

    def follow_site_model(self, path: str) -> None:
        """Another station's supervisor chose this version for the site: run it here too."""
        if not self.switch_model(path, site_choice=False):
            self.station_sync.switch_ended(False)

    def switch_model(self, path: str, site_choice: bool = True, chosen_by: str | None = None) -> bool:
        """Switch to the model at ``path``; by default a supervisor's choice for the whole site
        (``chosen_by``: who, recorded; a person's choice, so they confirm what changes first). True
        when the load has started (``_model_loaded`` or ``_model_refused`` follows)."""
        if self.is_busy():
            self.statusBar().showMessage("Finish or cancel the running batch before switching models")
            return False
        self._after_load = "reopen" if self.folder_model.items else None
        if chosen_by is None:  # a site's switch, followed: the supervisor who made it was asked
            self.load_model(Path(path), site_choice=site_choice)
            return True
        decisions = sum(1 for d in self.model.decisions() if d)
        if self.models.switch(Path(path), len(self.model.items), decisions, site_choice, chosen_by):
            return True
        self._after_load = None
        self.statusBar().showMessage(f"Not switched: {self.workspace.model.name} v{self.workspace.model.version} "
                                     "stays in use")
        return False

    def _confirm(self, title: str, question: str) -> bool:
        return QMessageBox.question(self, title, question, QMessageBox.Yes | QMessageBox.No,
                                    QMessageBox.No) == QMessageBox.Yes

    def choose_model(self) -> None:
        if self.is_busy():  # scores of a running batch must stay under the model that made them
            self.statusBar().showMessage("Finish or cancel the running batch before switching models")
            return
        path, _ = QFileDialog.getOpenFileName(self, "Model", "", "Model card or ONNX (*.json *.onnx)")
        if path:
            self.operators.require_supervisor(f"switch the model version to {Path(path).name}",
                                              lambda who: self.switch_model(path, chosen_by=who), "Not switched")

    # --- closing ---------------------------------------------------------------------------------
    def quit_asking(self) -> None:
        """Quit; mid-batch, only when the person confirms (the menu's Quit, the window's ×)."""
        if self.batch.may_stop():
            self._confirmed_quit = True
            self.close()

    def closeEvent(self, event) -> None:
        # The window's × asks like the menu's Quit; a close by the program itself does not.
        if event.spontaneous() and not self._confirmed_quit and not self.batch.may_stop():
            event.ignore()
            return
        self.cancel()
        self.workspace.db.stop_retrying()  # a worker waiting out a lock ends now, before the database closes
        if self.training is not None:
            self.training.close()  # stops a running fine-tune; its partial run is left on disk
        self.training_controller.stop_install()  # a half-done install is pip's to resume, not the window's to wait for
        self.rating.close()  # its session lives in the database about to be closed
        self.navigation.viewer_jobs.request_stop()  # a map being drawn stops at its next tile
        self.station_sync.stop()
        self.tasks.drain(5000)  # every thread of the window ends before the database closes
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())  # the panels open, and where
        self.workspace.close()
        self._window_lock.unlock()  # not held (a second window): a no-op
        super().closeEvent(event)

