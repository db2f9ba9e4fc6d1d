"""Larger thumbnails for photos whose stored one is smaller than the gallery now shows (rows
kept at 128 px before thumbnails were made at 256): each is drawn again from its file through the
window's TaskOwner, a few photos a task, so a vote or a save asked meanwhile waits for a few
previews, not for the whole gallery. A new size asked for starts over from the photos then shown."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from ..core.scoring.catalogue import full_size_thumbnail
from ..core.store.database import Database
from .gallery import GalleryModel
from .tasks import TaskOwner

CHUNK = 8  # photos a task: ~8 previews of 12 MP JPEGs (draft-decoded), well under a second


class FullSizeThumbnails(QObject):
    def __init__(self, tasks: TaskOwner, model: GalleryModel, db: Callable[[], Database], parent=None):
        super().__init__(parent)
        self.tasks, self.model, self.db = tasks, model, db
        self._waiting: list[str] = []

    def want(self, px: int) -> None:
        """The gallery shows ``px`` thumbnails: draw again those stored smaller."""
        self._waiting = self.model.smaller_thumbs(px)
        self._next()

    def busy(self) -> bool:
        return bool(self._waiting) or self.tasks.busy("thumbnails")

    def _next(self) -> None:
        if not self._waiting:
            return
        chunk, self._waiting = self._waiting[:CHUNK], self._waiting[CHUNK:]
        db = self.db()

        def draw() -> dict[str, bytes | None]:
            return {path: full_size_thumbnail(db, path) for path in chunk}

        # Replaces a chunk still waiting: a new size asked for has already chosen the photos.
        self.tasks.submit("thumbnails", draw, on_done=self._drawn, on_error=lambda _exc: self._next())

    def _drawn(self, thumbs: dict[str, bytes | None]) -> None:
        for path, thumb in thumbs.items():
            if thumb is not None:  # None: the file changed or is gone; it keeps the one it has
                self.model.set_thumb(path, thumb)
        self._next()
