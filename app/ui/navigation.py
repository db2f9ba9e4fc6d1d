"""Which photo the viewer shows: the gallery's current one, decoded, scored and mapped by the
viewer's jobs (app.ui.viewer_jobs, in the window's TaskOwner), its EXIF read beside it; stepping
to the next photo, or the next one nobody has looked at; what happens when the filters hide it.

It holds the gallery, its filter proxy and the viewer (widgets, no I/O) and asks the shown batch
(``batch()``: the folder's or the camera's) about its photos. Only the newest photo's answers
are shown: a late one for a photo the person has moved past is dropped here.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QDockWidget

from ..core.imageio.exif import read_exif
from ..core.paths import user_data_dir
from ..core.scoring.map_cache import MapCache
from ..core.verdict import Thresholds
from ..core.workspace import Workspace
from .exif_panel import ExifPanel
from .gallery import GalleryFilter, GalleryModel, GalleryView, PathRole, StatusRole
from .message_log import ERROR, MessageLog
from .tasks import TaskOwner
from .viewer import Viewer
from .viewer_jobs import ViewerJobs


class Navigation(QObject):
    status = Signal(str)  # one line for the status bar

    def __init__(self, workspace: Workspace, tasks: TaskOwner, settings: QSettings, gallery: GalleryView,
                 proxy: GalleryFilter, viewer: Viewer, exif: tuple[ExifPanel, QDockWidget], messages: MessageLog,
                 batch: Callable[[], GalleryModel], thresholds: Callable[[], Thresholds], parent=None):
        super().__init__(parent)
        self.workspace, self.tasks, self.settings = workspace, tasks, settings
        self.gallery, self.proxy, self.viewer, self.messages = gallery, proxy, viewer, messages
        (self.exif_panel, self.exif_dock), self.batch, self.thresholds = exif, batch, thresholds
        # Native damage maps outlive the launch: on disk beside the user's data, bounded (map_cache).
        self.viewer_jobs = ViewerJobs(tasks, self, disk=MapCache(user_data_dir() / "native-maps"))
        self.viewer_jobs.scored.connect(self._show)
        self.viewer_jobs.progress.connect(self._show_progress)
        self.viewer_jobs.mapped.connect(self._mapped)
        self._remembered = settings.value("selected")  # the photo selected at the last close, until shown again
        gallery.selectionModel().currentChanged.connect(lambda current, _previous: self.open_index(current))
        viewer.next_requested.connect(self.step)
        self.exif_dock.visibilityChanged.connect(lambda shown: shown and self.read_exif())

    def open_index(self, index) -> None:
        if not index.isValid():
            self.exif_panel.show_nothing()
            return
        path = index.data(PathRole)
        self.batch().item(path).reviewed = True
        self.settings.setValue("selected", path)
        self.viewer_jobs.request(self.workspace.engine, path)
        self.read_exif(path)

    def read_exif(self, path: str | None = None) -> None:
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
                          on_done=lambda found: self.is_current(path) and self.exif_panel.show_settings(path, found))

    def current_path(self) -> str | None:
        """The photo selected in the gallery (the one in the viewer), None when none is."""
        current = self.gallery.currentIndex()
        return current.data(PathRole) if current.isValid() else None

    def is_current(self, path: str) -> bool:
        return self.current_path() == path

    def _show(self, path: str, outcome) -> None:
        if self.is_current(path):
            stride = self.workspace.model.card.get("stride")
            self.viewer.show_outcome(outcome, stride, self.thresholds(), self.batch().item(path).review)

    def _show_progress(self, path: str, done: int, total: int) -> None:
        if self.is_current(path):
            self.viewer.show_map_progress(done, total)

    def _mapped(self, path: str, maps) -> None:
        if not self.is_current(path):
            return
        if isinstance(maps, Exception):
            self.messages.add(ERROR, f"{Path(path).name}: damage map failed ({maps})")
        self.viewer.show_native(maps)
        following = self.proxy.index(self.gallery.currentIndex().row() + 1, 0)
        if following.isValid() and following.data(StatusRole) == "ok":  # the photo → shows next
            self.viewer_jobs.prefetch(self.workspace.engine, following.data(PathRole))

    def reopen(self) -> None:
        """The shown photo's scores changed (a calibration): decoded and scored again."""
        self.viewer_jobs.forget()
        current = self.gallery.currentIndex()
        if current.isValid():
            self.open_index(current)

    def step(self, delta: int) -> None:
        row = self.gallery.currentIndex().row() + delta
        if 0 <= row < self.proxy.rowCount():
            self.gallery.setCurrentIndex(self.proxy.index(row, 0))

    def next_unreviewed(self) -> None:
        start = self.gallery.currentIndex().row()
        for row in list(range(start + 1, self.proxy.rowCount())) + list(range(start)):
            if not self.batch().item(self.proxy.index(row, 0).data(PathRole)).reviewed:
                self.gallery.setCurrentIndex(self.proxy.index(row, 0))
                return
        self.status.emit("Every photo has been looked at")

    def show_first(self) -> None:
        """A photo arrived in the shown batch: with none in the viewer, the first is shown."""
        if not self.gallery.currentIndex().isValid() and self.proxy.rowCount():
            self.gallery.setCurrentIndex(self.proxy.index(0, 0))

    def select_remembered(self) -> None:
        """After the start's folder is read, the photo selected when the window last closed."""
        wanted, self._remembered = self._remembered, None
        if wanted:
            for row in range(self.proxy.rowCount()):
                if self.proxy.index(row, 0).data(PathRole) == wanted:
                    self.gallery.setCurrentIndex(self.proxy.index(row, 0))
                    break

    def narrowed(self) -> None:
        """What the gallery shows changed (Show, the search, the score range)."""
        if not self.gallery.currentIndex().isValid():  # the photo shown is filtered out, none in its place
            self.viewer_jobs.request_stop()
            self.viewer.clear()
            self.exif_panel.show_nothing()
