"""Two batches side by side: the folder's and the camera's, each with its own photos.

The gallery shows one of them; the tabs above it (and View → Folder batch / Camera batch) choose
which. Each batch is its own GalleryModel, filled by its own source (a folder batch, a camera's
captures), whichever is shown. Switching re-points the gallery, the window's ``model`` and the
exports at the other batch and puts back the photo that was selected in it: nothing is read
from disk or scored again, and the counts follow the batch shown.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QTabBar

from .gallery import GalleryModel, PathRole

FOLDER, CAMERA = "folder", "camera"
_ORDER = (FOLDER, CAMERA)
_NAMES = {FOLDER: "Folder", CAMERA: "Camera"}


class BatchSwitch(QObject):
    switched = Signal(str)  # the batch now shown

    def __init__(self, window, models: dict[str, GalleryModel], tabs: QTabBar, pages: QStackedWidget):
        super().__init__(window)
        self.window, self.models, self.tabs, self.pages = window, models, tabs, pages
        self.shown = FOLDER
        self._selected: dict[str, str | None] = {}  # each batch's photo selected when it was left
        for name in _ORDER:
            tabs.addTab(_NAMES[name])
            model = models[name]
            for change in (model.rowsInserted, model.rowsRemoved, model.modelReset):
                change.connect(lambda *_, n=name: self._count(n))
            self._count(name)
        tabs.currentChanged.connect(lambda i: self.show(_ORDER[i]))
        self._fit_pages()

    def _fit_pages(self) -> None:
        """The controls' row is as tall as the shown batch's: the folder's one line does not keep
        the camera's preview height."""
        for i in range(self.pages.count()):
            shown = i == self.pages.currentIndex()
            self.pages.widget(i).setSizePolicy(QSizePolicy.Preferred if shown else QSizePolicy.Ignored,
                                               QSizePolicy.Preferred if shown else QSizePolicy.Ignored)
        self.pages.updateGeometry()

    def _count(self, name: str) -> None:
        """The tab says how many photos its batch holds: the hidden one's growth is seen too."""
        self.tabs.setTabText(_ORDER.index(name), f"{_NAMES[name]} · {len(self.models[name].items)}")

    def show(self, name: str) -> None:
        if name == self.shown:
            return
        w = self.window
        self._selected[self.shown] = w.navigation.current_path()
        self.shown = name
        model = self.models[name]
        w.model = w.outputs.model = model
        w.proxy.setSourceModel(model)
        w.gallery.set_thumb_size(w.gallery.thumb_size())  # the batch's cells take the gallery's size
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(_ORDER.index(name))
        self.tabs.blockSignals(False)
        self.pages.setCurrentIndex(_ORDER.index(name))
        self._fit_pages()
        self._reselect(self._selected.get(name))
        self.switched.emit(name)

    def _reselect(self, path: str | None) -> None:
        w = self.window
        proxy = w.proxy
        rows = [r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(PathRole) == path] if path else []
        if rows or proxy.rowCount():
            w.gallery.setCurrentIndex(proxy.index(rows[0] if rows else 0, 0))
        else:
            w.navigation.narrowed()  # an empty batch: nothing in the viewer
