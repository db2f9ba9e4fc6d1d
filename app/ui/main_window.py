"""The main window: source, gallery, viewer and thresholds, wired by signals.

The window does no I/O of its own: the Workspace (app.core) opens models and the database;
batches run in app.ui.batch_jobs, the viewer's decoding in app.ui.viewer_jobs, and every other
database statement or file write of the window in its TaskOwner (app.ui.tasks), whose answers
come back here on the GUI thread. tests/gui/conftest.py fails a test in which window code runs
a database statement on the GUI thread.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QPoint, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMainWindow, QMessageBox

from ..core.imageio.exif import read_exif
from ..core.paths import user_data_dir
from ..core.ratings.selection import select_for_rating
from ..core.ratings.session import batch_name
from ..core.scoring.map_cache import MapCache
from ..core.store.repository import threshold_profiles
from ..core.workspace import Workspace
from .gallery import (
    GalleryFilter,
    GalleryModel,
    GalleryView,
    PathRole,
    StatusRole,
)
from .batch_jobs import BatchJobs, ended_text, progress_text
from .batch_tabs import CAMERA, FOLDER
from .camera_batch import CameraBatch
from .batch_outputs import BatchOutputs
from .exif_panel import ExifPanel
from .labeling_panel import LabelingPanel
from .menus import build_menus
from .window_layout import build_layout
from .message_log import ERROR, WARNING, MessageLog
from .model_controller import ModelController
from .operator_controller import OperatorController
from .rater_help import SeenInstructions
from .site_reason_codes import SiteReasonCodes
from .status_line import StatusLine
from .station_sync import StationSyncTimer
from .tasks import TaskOwner
from .thresholds_panel import ThresholdsPanel
from .training_controller import TrainingController
from .training_panel import TrainingPanel
from .viewer import Viewer
from .viewer_jobs import ViewerJobs
from .workers import FolderWorker

SECOND_WINDOW_OFFSET = 48  # px right and down of the first window

# What the labeling panel rates: the gallery's photos, or a selection over every scored photo.
RATING_CHOICES = {
    "The photos in the gallery": None,
    "Most uncertain first (the model's views disagree)": "uncertain",
    "Nearest the thresholds first": "borderline",
    "A random sample": "random",
}


class MainWindow(QMainWindow):
    def __init__(self, model_path: Path, database: str | Path, settings: QSettings | None = None,
                 runs_dir: Path | None = None):
        super().__init__()
        # Fine-tune runs (each a folder with its new model version) live beside the user's data.
        self.runs_dir = runs_dir or user_data_dir() / "finetune"
        self.setWindowTitle("MobileIQA Inspector")
        self.settings = settings or QSettings("MobileIQA", "Inspector")
        self.workspace = Workspace(database)
        self.tasks = TaskOwner(self)  # the window's database and file work, off the GUI thread
        self.setStatusBar(StatusLine(self))  # long messages elided, whole in its tooltip
        # Errors and warnings: shown in the status bar, and kept with their time in the Messages panel.
        self.messages = MessageLog(self)
        self.tasks.errored.connect(lambda _key, message: self.say(ERROR, f"Failed: {message}"))
        # Who is at the station: named on every decision; supervisor actions ask for a supervisor.
        self.operators = OperatorController(self.workspace.db, self.tasks, self.settings, self)
        self.operators.status.connect(self.statusBar().showMessage)
        self.operators.load()  # before the model: a supervisor action after load knows whom to ask
        self.models = ModelController(self.workspace, self.tasks, self._approve_model, parent=self,
                                      confirm=self._confirm)
        self.models.loaded.connect(self._model_loaded)
        self.models.refused.connect(self._model_refused)
        self._after_load: str | None = None  # "open last folder" or "reopen" once the model is in
        self._held_start: Callable[[], None] | None = None  # a batch asked for before the first model was in
        self._confirmed_quit = False  # Quit mid-batch was confirmed: the close that follows asks nothing
        self.training_controller = TrainingController(
            self.workspace, self.runs_dir, self.settings, self.is_busy, tasks=self.tasks,
            shown_paths=lambda: [it.path for it in self.model.items], guard=self.operators.require_supervisor,
            parent=self)
        self.training_controller.status.connect(self.statusBar().showMessage)
        self.training_controller.switch_requested.connect(lambda path, who: self.switch_model(path, chosen_by=who))
        self.training_controller.scores_changed.connect(self.scores_changed)

        # Two batches beside each other, each with its own photos: the folder's and the camera's.
        # ``model`` is the one the gallery shows (app.ui.batch_tabs switches it).
        self.folder_model = self.model = GalleryModel(self)
        self.camera = CameraBatch(self.workspace, self.tasks, self.settings, lambda: self.panel.thresholds(), self)
        for batch in (self.folder_model, self.camera.model):
            batch.reviews_changed.connect(self._reviews_changed)
        self.camera.said.connect(lambda level, text: self.say(level or None, text))
        self.camera.added.connect(self._camera_added)
        self.camera.reloaded.connect(self._camera_added)
        # Reviews and exports of the batch's results.
        # The site's reason codes (the database's, shared by its stations) for the accept / reject question.
        self.reason_codes = SiteReasonCodes(self.workspace.db, self.tasks, self.settings,
                                            self.operators.require_supervisor, self)
        self.reason_codes.status.connect(self.statusBar().showMessage)
        self.reason_codes.load()
        self.outputs = BatchOutputs(self.workspace, self.tasks, self.model, self.current_path,
                                    self.operators.recorded_name, self.settings, parent=self,
                                    selected_paths=lambda: self.gallery.selected_paths(), reason_codes=self.reason_codes)
        self.outputs.status.connect(self.statusBar().showMessage)
        self.outputs.failed.connect(lambda message: self.messages.add(ERROR, message))  # said by ``status`` too
        self.jobs = BatchJobs(self)  # the one owner of folder batches
        self.jobs.scored.connect(self._add)
        self.jobs.progress.connect(self._progress)
        self.jobs.removed.connect(self._removed)
        self.jobs.moved.connect(self.folder_model.rename)
        self.jobs.failed.connect(self._failed)
        self.jobs.finished.connect(self._done)
        self._failure: str | None = None
        self.labeling: LabelingPanel | None = None
        self._batch_started = time.monotonic()
        self.proxy = GalleryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.gallery = GalleryView()
        self.gallery.setModel(self.proxy)
        self.viewer = Viewer()
        # Native damage maps outlive the launch: on disk beside the user's data, bounded (map_cache).
        self.viewer_jobs = ViewerJobs(self, disk=MapCache(user_data_dir() / "native-maps"))
        self.viewer_jobs.scored.connect(self._show)
        self.viewer_jobs.progress.connect(lambda p, d, t: self._is_current(p) and self.viewer.show_map_progress(d, t))
        self.viewer_jobs.mapped.connect(self._mapped)
        self.panel = ThresholdsPanel()
        self.exif_panel = ExifPanel()
        build_layout(self)
        build_menus(self)
        self.batches.switched.connect(self._batch_shown)
        self.camera.running_changed.connect(lambda _running: self._capture_key_in_force())

        self.gallery.selectionModel().currentChanged.connect(lambda cur, _: self.open_index(cur))
        self.viewer.next_requested.connect(self.step)
        self.panel.changed.connect(self._preview_thresholds)
        self._histogram_timer = QTimer(self)
        self._histogram_timer.setSingleShot(True)
        self._histogram_timer.setInterval(250)
        self._histogram_timer.timeout.connect(self._refresh_counts)
        self.panel.save_requested.connect(self.save_thresholds)

        # Stations sharing one database follow each other's supervisor (model version, thresholds);
        # a station opening joins the site's version rather than imposing its own last one.
        self.station_sync = StationSyncTimer(self.workspace, lambda: self.is_busy() or self.models.busy(), parent=self)
        self.station_sync.model_switch.connect(self.follow_site_model)
        self.station_sync.thresholds_changed.connect(self.panel.set_thresholds)
        self.station_sync.thresholds_changed.connect(self._preview_thresholds)
        self.station_sync.profile_changed.connect(self._show_profile)
        self.station_sync.profile_changed.connect(lambda _name: self._read_profiles())  # saved at another station
        self.station_sync.reviews_changed.connect(self.outputs.show_reviews)
        self.station_sync.status.connect(self.statusBar().showMessage)
        self.station_sync.timer.timeout.connect(self.reason_codes.refresh)  # a supervisor's change at another station
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
        # The catalogue: once its model is in, the window opens on the last session's folder. Its
        # photos scored and unchanged come from the database (no rescoring); new or changed ones are scored.
        self._after_load = "open last folder"
        self._selected_at_start = self.settings.value("selected")  # shown again once the folder is read
        self.open_start_model(Path(model_path))
        self.station_sync.start()

    # --- model and thresholds -----------------------------------------------------------
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
        self.panel.set_thresholds(self.workspace.thresholds)
        self.station_status.show_model(model.name, str(model.version))
        self._show_profile(self.workspace.profile)
        self._read_profiles()
        self.statusBar().showMessage(f"Model {model.name} v{model.version} ({model.card['backbone']}, {model.provider})")
        then, self._after_load = self._after_load, None
        held, self._held_start = self._held_start, None
        last = self.settings.value("last_folder")
        if held is not None:  # what the person asked for while the model loaded comes first
            held()
        elif then == "open last folder" and last and Path(last).is_dir():
            self.open_folder(Path(last))
        elif then == "reopen":
            # The badges must be this model's: the folder is read again, photos this model
            # already scored come from the database, the others are scored now.
            if last and Path(last).is_dir():
                self.open_folder(Path(last))
            else:
                self.folder_model.clear()
        self.camera.reload()  # the camera's batch, under this model (stored results reused)
        self.station_sync.switch_ended(True)  # a site's switch followed: said last

    def _model_refused(self, message: str) -> None:
        self._after_load = self._held_start = None
        self.say(ERROR, message)
        self.station_sync.switch_ended(False)  # a site's switch this station could not follow: said last

    def _preview_thresholds(self, thresholds) -> None:
        for batch in (self.folder_model, self.camera.model):
            batch.apply_thresholds(thresholds)
        self.viewer.thresholds = thresholds
        self.viewer.info.setText(self.viewer.describe())

    def save_thresholds(self, thresholds, name: str) -> None:
        """A supervisor's action: saved, with who, once a supervisor stands behind it."""
        self.operators.require_supervisor(f"save threshold profile {name!r}",
                                          lambda who: self._store_thresholds(thresholds, name, who), "Not saved")

    def _store_thresholds(self, thresholds, name: str, who: str) -> None:
        """Saved off the GUI thread: every stored verdict of the version is recomputed (20.6 s on
        a shared database of a million rows, measured with the window frozen before)."""
        ws = self.workspace

        def saved(_) -> None:
            ws.thresholds, ws.profile = thresholds, name
            self._preview_thresholds(thresholds)
            self._show_profile(name)
            self._read_profiles()
            self.statusBar().showMessage(f"Saved threshold profile {name!r}: pass ≥ {thresholds.pass_at:.0f}, "
                                         f"fail < {thresholds.fail_below:.0f} ({who})")

        self.statusBar().showMessage(f"Saving threshold profile {name!r}…")
        self.tasks.submit("thresholds", lambda: ws.store_thresholds(thresholds, name, who), on_done=saved)

    def _show_profile(self, name: str | None) -> None:
        self.station_status.show_profile(name, self.workspace.thresholds)

    def _read_profiles(self) -> None:
        """The model's saved profiles, with who changed them and when, for the thresholds panel."""
        db, version = self.workspace.db, self.workspace.model_version_id
        if version is not None:
            self.tasks.submit("profiles", lambda: threshold_profiles(db, version), on_done=self.panel.show_profiles)

    def _show_operator(self) -> None:
        self.station_status.show_operator(self.operators.current, self.operators.last)

    def _reread_folder(self) -> None:
        last = self.settings.value("last_folder")
        if self.folder_model.items and last and Path(last).is_dir():
            self.open_folder(Path(last))

    # --- scoring a folder -----------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Photos to inspect", self.settings.value("last_folder", ""))
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> None:
        if self._ready_to_start(lambda: self.open_folder(folder), f"{folder} is scored"):
            self.settings.setValue("last_folder", str(folder))
            self.outputs.batch_started(str(folder), Path(folder))  # named in the report
            worker = FolderWorker(self.workspace, folder, self.recursive.isChecked(), self.watch.isChecked())
            self._start(worker, f"Scoring {folder}…")

    def choose_camera(self) -> None:
        spec, ok = QInputDialog.getText(
            self, "Camera", "Device number, stream URL or video file:", text=self.settings.value("camera", "0")
        )
        if ok and spec.strip():
            self.open_camera(spec.strip(), self.camera_panel.every.value() * 1000)

    def open_camera(self, spec: str, interval_ms: int = 0, save_dir: Path | None = None) -> None:
        """A new camera batch beside the folder's, shown: Space captures a frame (and the clock
        every ``interval_ms``, when set); its frames are saved to ``save_dir``."""
        if self.workspace.engine is None:  # held, like a folder, until the first model is in
            self._ready_to_start(lambda: self.open_camera(spec, interval_ms, save_dir), "the camera starts")
            return
        self.batches.show(CAMERA)
        self.camera.start(spec, interval_ms, save_dir)
        self.camera_panel.show_camera(self.camera.source_name)
        self.outputs.batch_started(f"camera {self.camera.source_name}", self.camera.folder)

    def snap(self) -> None:
        """Space: the camera's newest frame into its batch."""
        self.camera.capture()

    def show_folder_batch(self) -> None:
        self.batches.show(FOLDER)

    def show_camera_batch(self) -> None:
        self.batches.show(CAMERA)

    def _batch_shown(self, name: str) -> None:
        """The other batch is shown: its counts, its decisions, and what exports name."""
        if name == CAMERA:
            self.outputs.batch_started(f"camera {self.camera.source_name}", self.camera.folder)
        else:
            last = self.settings.value("last_folder")
            self.outputs.batch_started(str(last or ""), Path(last) if last else None)
        self.outputs.show_reviews()
        self._refresh_counts()
        self._capture_key_in_force()

    def _capture_key_in_force(self) -> None:
        """Space captures only while the camera runs and its batch is shown; otherwise it stays
        the viewer's key for the next photo."""
        self.capture_action.setEnabled(self.camera.running and self.batches.shown == CAMERA)

    def _camera_added(self, record=None) -> None:
        if self.batches.shown == CAMERA:
            self._refresh_counts()
            if not self.gallery.currentIndex().isValid() and self.proxy.rowCount():
                self.gallery.setCurrentIndex(self.proxy.index(0, 0))

    def _ready_to_start(self, later: Callable[[], None], what: str) -> bool:
        """True when a batch can start now. While the first model is still loading (right after
        launch) the batch is held and ``later`` starts it once the model is in."""
        if self.workspace.engine is None:
            if self.models.busy():
                self._held_start = later
                self.statusBar().showMessage(f"The model is still loading: {what} once it is in")
            else:
                QMessageBox.warning(self, "No model", "Load a model first (File → Load model…).")
            return False
        self.jobs.cancel()
        self.folder_model.clear()
        self.batches.show(FOLDER)
        return True

    def _start(self, worker, message: str) -> None:
        self._failure = None
        self._batch_started = time.monotonic()
        self.progress.setValue(0)  # a batch of no photos must not end on the last one's count
        self.progress.set_text("")
        self.jobs.start(worker)
        self.cancel_button.setEnabled(True)
        self.statusBar().showMessage(message)

    def _add(self, record, thumb) -> None:
        self.folder_model.upsert(record, thumb, self.panel.thresholds())
        if record.status != "ok":  # listed, though the status bar goes on with the batch
            self.messages.add(WARNING, record.error or f"{Path(record.path).name}: {record.status}")
        # The histogram is redrawn at most 4 times a second, not once per photo: with thousands
        # of photos arriving, recounting every score per photo froze the window.
        if not self._histogram_timer.isActive():
            self._histogram_timer.start()
        if self.batches.shown == FOLDER and not self.gallery.currentIndex().isValid():
            self.gallery.setCurrentIndex(self.proxy.index(0, 0))

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.set_text(progress_text(done, total, time.monotonic() - self._batch_started))
        if self.watch.isChecked() and done == total:
            self.statusBar().showMessage(f"Watching {self.settings.value('last_folder')}: {done} scored")

    def _done(self, cancelled: bool) -> None:
        self.cancel_button.setEnabled(False)
        self._select_remembered()
        self.outputs.show_reviews()
        self._histogram_timer.stop()
        self._refresh_counts()
        self.thumbnails.want(self.gallery.thumb_size())  # rows stored at 128 px, shown larger
        n, errors = len(self.folder_model.items), sum(1 for it in self.folder_model.items if it.status != "ok")
        ending = f"Stopped by a {self._failure}" if self._failure else ("Cancelled" if cancelled else "Done")
        self.statusBar().showMessage(f"{ending}: {n} photos, {errors} could not be scored")
        self.progress.set_text(ended_text("Stopped" if self._failure else ending, self.progress.value(),
                                          time.monotonic() - self._batch_started))

    def _select_remembered(self) -> None:
        """After the start's folder is read, the photo selected when the window last closed."""
        wanted, self._selected_at_start = self._selected_at_start, None
        if wanted:
            for row in range(self.proxy.rowCount()):
                if self.proxy.index(row, 0).data(PathRole) == wanted:
                    self.gallery.setCurrentIndex(self.proxy.index(row, 0))
                    break

    def _failed(self, message: str) -> None:
        self._failure = message
        self.messages.add(ERROR, f"The batch stopped: {message}")

    def _removed(self, path: str) -> None:
        self.folder_model.remove(path)
        self.say(WARNING, f"{Path(path).name} was deleted from the folder: taken out of the gallery")

    def say(self, level: str | None, text: str) -> None:
        """Show ``text`` in the status bar; an ERROR or a WARNING is kept in the Messages panel too."""
        self.statusBar().showMessage(text)
        if level is not None:
            self.messages.add(level, text)

    def cancel(self) -> None:
        """Stop the folder's batch and the camera (the photos and frames so far are kept)."""
        self.jobs.cancel()
        self.camera.stop()

    def is_busy(self) -> bool:
        return self.jobs.busy or self.camera.busy

    # --- viewer and navigation -------------------------------------------------------------
    def open_index(self, index) -> None:
        if not index.isValid():
            self.exif_panel.show_nothing()
            return
        path = index.data(PathRole)
        self.model.item(path).reviewed = True
        self.settings.setValue("selected", path)
        self.viewer_jobs.request(self.workspace.engine, path)
        self._read_exif(path)

    def _read_exif(self, path: str | None = None) -> None:
        """The photo's EXIF for the EXIF panel, read off the GUI thread (a network share can be
        slow); only while the panel is open, and only the newest photo's answer is shown."""
        path = path or self.current_path()
        if self.exif_dock.isHidden():
            return  # read when the panel is opened (visibilityChanged)
        if path is None:
            self.exif_panel.show_nothing()
            return
        self.exif_panel.show_reading(path)
        self.tasks.submit("exif", lambda: read_exif(path),
                          on_done=lambda found: self._is_current(path) and self.exif_panel.show_settings(path, found))

    def _refresh_counts(self) -> None:
        self.panel.set_scores(self.model.scores(), self.model.decisions())

    def _reviews_changed(self) -> None:
        self._refresh_counts()
        shown = self.viewer.outcome.record.path if self.viewer.outcome is not None else None
        if shown is not None and self._is_current(shown) and self.model.item(shown) is not None:
            self.viewer.show_review(self.model.item(shown).review)

    def scores_changed(self, scores: dict) -> None:
        """Stored scores changed (calibration applied or removed): refresh what shows them."""
        for batch in (self.folder_model, self.camera.model):
            batch.set_scores(scores, self.workspace.thresholds)
        self._refresh_counts()
        self.viewer_jobs.forget()
        current = self.gallery.currentIndex()
        if current.isValid():
            self.open_index(current)

    def current_path(self) -> str | None:
        """The photo selected in the gallery (the one in the viewer), None when none is."""
        current = self.gallery.currentIndex()
        return current.data(PathRole) if current.isValid() else None

    def _is_current(self, path: str) -> bool:
        return self.current_path() == path

    def _mapped(self, path: str, maps) -> None:
        if not self._is_current(path):
            return
        if isinstance(maps, Exception):
            self.messages.add(ERROR, f"{Path(path).name}: damage map failed ({maps})")
        self.viewer.show_native(maps)
        following = self.proxy.index(self.gallery.currentIndex().row() + 1, 0)
        if following.isValid() and following.data(StatusRole) == "ok":  # the photo → shows next
            self.viewer_jobs.prefetch(self.workspace.engine, following.data(PathRole))

    def _show(self, path: str, outcome) -> None:
        if self._is_current(path):
            stride = self.workspace.model.card.get("stride")
            self.viewer.show_outcome(outcome, stride, self.panel.thresholds(), self.model.item(path).review)

    def step(self, delta: int) -> None:
        row = self.gallery.currentIndex().row() + delta
        if 0 <= row < self.proxy.rowCount():
            self.gallery.setCurrentIndex(self.proxy.index(row, 0))

    def next_unreviewed(self) -> None:
        start = self.gallery.currentIndex().row()
        for row in list(range(start + 1, self.proxy.rowCount())) + list(range(start)):
            if not self.model.item(self.proxy.index(row, 0).data(PathRole)).reviewed:
                self.gallery.setCurrentIndex(self.proxy.index(row, 0))
                return
        self.statusBar().showMessage("Every photo has been looked at")

    def open_labeling(self, choice: str | None = None, count: int | None = None) -> None:
        """Raters give ACR opinions (photos shown without their scores). ``choice``: which photos,
        one of RATING_CHOICES (asked in a dialog when not given); ``count`` for a selection."""
        if choice is None:
            choice, ok = QInputDialog.getItem(self, "What to rate", "Photos", list(RATING_CHOICES), 0, False)
            if not ok:
                return
        strategy = RATING_CHOICES[choice]
        if strategy is None:
            photos = [it.path for it in self.model.items if it.status == "ok"]
        else:
            if count is None:
                count, ok = QInputDialog.getInt(self, "What to rate", "How many photos", 50, 1, 100_000)
                if not ok:
                    return
            ws = self.workspace
            version, thresholds = ws.model_version_id, ws.thresholds
            self.statusBar().showMessage("Choosing photos to rate…")
            self.tasks.submit("rating selection",
                              lambda: select_for_rating(ws.db, version, strategy, count, thresholds),
                              on_done=self._rate)
            return
        self._rate(photos)

    def _rate(self, photos: list[str]) -> None:
        if not photos:
            self.statusBar().showMessage("No scored photos to rate yet: open a folder first")
            return
        if self.labeling is not None:
            self.labeling.close()  # one rater at a time at this station
        self.labeling = LabelingPanel(self.workspace.db, batch_name(photos), photos, tasks=self.tasks,
                                      instructions=SeenInstructions.for_station(self.workspace.db, self.settings))
        if self.operators.current is not None:  # who rates is, by default, who is signed in (typing replaces it)
            self.labeling.rater.setText(self.operators.current.name)
            self.labeling.rater.selectAll()
        self.labeling.resize(900, 700)
        self.labeling.show()

    def open_training(self) -> None:
        """The supervisor's Training panel: fine-tune, switch or roll back versions, calibrate."""
        self.training_controller.open()

    @property
    def training(self) -> TrainingPanel | None:
        return self.training_controller.panel

    def _approve_model(self, card: dict, chosen_by: str | None, approved: Callable[[str], None],
                       declined: Callable[[str | None], None]) -> None:
        """Ask whether to run a model this station does not know; a supervisor's action, so
        ``approved(who)`` follows only once one stands behind it (``chosen_by``: the supervisor who
        already confirmed this switch). ``declined(why)`` otherwise."""
        who = chosen_by or self.operators.recorded_name()
        answer = QMessageBox.question(
            self, "Run a model this station does not know?",
            f"{card['name']} v{card['version']} is not a model this program ships, and it was not "
            f"fine-tuned or approved at this station.\n\nsha256 {card['sha256']}\n\n"
            f"Run it and record the approval ({who})?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            declined(None)
        elif chosen_by:
            approved(chosen_by)
        else:
            self.operators.require_supervisor(f"approve {card['name']} v{card['version']}", approved,
                                              refused=lambda why: declined(f"a supervisor must approve it ({why})"))

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

    def _filter(self, show: str) -> None:
        self.proxy.set_filter(show)
        self._narrowed()

    def _narrowed(self) -> None:
        """What the gallery shows changed (Show, the search, the score range)."""
        if not self.gallery.currentIndex().isValid():  # the photo shown is filtered out, none in its place
            self.viewer_jobs.request_stop()
            self.viewer.clear()
            self.exif_panel.show_nothing()

    def _sort(self) -> None:
        self.proxy.set_sort(self.sort_box.currentText(), self.descending.isChecked())

    # --- export, model choice, closing ----------------------------------------------------------
    def choose_model(self) -> None:
        if self.is_busy():  # scores of a running batch must stay under the model that made them
            self.statusBar().showMessage("Finish or cancel the running batch before switching models")
            return
        path, _ = QFileDialog.getOpenFileName(self, "Model", "", "Model card or ONNX (*.json *.onnx)")
        if path:
            self.operators.require_supervisor(f"switch the model version to {Path(path).name}",
                                              lambda who: self.switch_model(path, chosen_by=who), "Not switched")

    def quit_asking(self) -> None:
        """Quit; mid-batch, only when the person confirms (the menu's Quit, the window's ×)."""
        if self._may_stop_the_batch():
            self._confirmed_quit = True
            self.close()

    def _may_stop_the_batch(self) -> bool:
        if not self.jobs.busy:  # a camera stops without asking: its captured frames are kept
            return True
        watching = self.watch.isChecked()
        answer = QMessageBox.question(
            self, "Stop and quit?",
            ("The folder is being watched" if watching else "A batch is being scored")
            + f" ({self.progress.value()} of {self.progress.maximum()} photos so far). Stop it and quit? "
            "The photos scored so far are kept; the rest are scored next time the folder is opened.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def closeEvent(self, event) -> None:
        # The window's × asks like the menu's Quit; a close by the program itself does not.
        if event.spontaneous() and not self._confirmed_quit and not self._may_stop_the_batch():
            event.ignore()
            return
        self.cancel()
        self.workspace.db.stop_retrying()  # a worker waiting out a lock ends now, before the database closes
        self.jobs.wait_all(5000)
        if self.training is not None:
            self.training.close()  # stops a running fine-tune; its partial run is left on disk
        self.training_controller.stop_install()  # a half-done install is pip's to resume, not the window's to wait for
        if self.labeling is not None:
            self.labeling.close()  # its session lives in the database about to be closed
        self.viewer_jobs.request_stop()
        self.station_sync.stop()
        self.tasks.drain(5000)  # what was asked of the database ends before it closes
        QThreadPool.globalInstance().waitForDone(5000)
        self.viewer_jobs.wait(5000)
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())  # the panels open, and where
        self.workspace.close()
        self._window_lock.unlock()  # not held (a second window): a no-op
        super().closeEvent(event)

