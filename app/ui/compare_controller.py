"""Compare (View → Compare side by side, C): two selected photos side by side, or one photo beside
its map, in place of the single viewer; Esc or C again goes back.

The panes' pixels are prepared in the window's TaskOwner (app.ui.tasks), never on the GUI thread:
decoding, the screen-sized preview a 24 MP photo is drawn from at fit, the overlay of a map, and
the conversion to QImage. Each pane's work has its own key, so reopening with other photos makes
an older answer stale, and closing drops what is still on its way."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStackedWidget

from ..core.imageio.display import read_for_display, screen_preview
from .compare_view import CompareView
from .images import to_qimage
from .viewer import DISTORTION, IN_SCORE, NONE, Viewer, compose
from .zoom_view import ZoomView

PREVIEW_FALLBACK = 2560  # px, the preview's long side when the screen's size is unknown


def photo_caption(path: str, item) -> str:
    """A pane's caption: file name, score and the verdict in force (a person's decision named,
    with what the model said), or why the file was not scored. ``item``: its GalleryItem, if any."""
    name = Path(path).name
    if item is None:
        return name
    if item.score is None:
        return f"{name}   ·   {item.status.upper()}" + (f": {item.error}" if item.error else "")
    text = f"{name}   ·   {item.score:.1f}   ·   {(item.verdict_in_force or '').upper()}"
    review = item.review
    if review is not None and review.overridden:
        reason = f": {review.why}" if review.why else ""
        text += f"  ({review.decision} by {review.reviewer}{reason}; the model said {(item.verdict or '').upper()})"
    elif review is not None:
        text += f"  ({review.decision} by {review.reviewer})"
    return text


def _as_images(rgb, preview, problem=None):
    """What a pane draws: (preview, full) as QImages, made in the task's thread."""
    return to_qimage(preview), to_qimage(rgb), problem


def _photo_images(path: str, side: int):
    shown = read_for_display(path, side)
    return _as_images(shown.rgb, shown.preview, shown.problem)


def _map_images(rgb, result, native, stride, choice: str, alpha: float, side: int):
    composed = compose(rgb, result, native, stride, choice, alpha)
    return _as_images(composed, screen_preview(composed, side))


class CompareController(QObject):
    status = Signal(str)
    toggled = Signal(bool)  # shown (True) or back to the single viewer

    def __init__(self, tasks, stack: QStackedWidget, viewer: Viewer, gallery_item, parent=None):
        """``stack``: holds the viewer, and the compare view in its place while open;
        ``gallery_item(path)``: the photo's GalleryItem (score, verdict, decision), or None."""
        super().__init__(parent)
        self.tasks, self.stack, self.viewer, self.gallery_item = tasks, stack, viewer, gallery_item
        self.view = CompareView()
        self.view.closed.connect(self.close)
        stack.addWidget(self.view)

    @property
    def is_open(self) -> bool:
        return self.stack.currentWidget() is self.view

    def zoom_target(self) -> ZoomView:
        """The view a zoom key acts on: the compare view's active pane (the other follows), else
        the single viewer."""
        return self.view.active().view if self.is_open else self.viewer.view

    def toggle(self, selected: list[str]) -> None:
        if self.is_open:
            self.close()
        else:
            self.open(selected)

    def open(self, selected: list[str]) -> None:
        """Two or more selected: the first two, in the gallery's order. One: it beside its map."""
        if not selected:
            self.status.emit("Compare: select two photos (Ctrl-click the second), or one to see it beside its map")
            return
        side = self._preview_side()
        if len(selected) >= 2:
            for index, path in enumerate(selected[:2]):
                self.view.panes[index].show_reading(path, photo_caption(path, self.gallery_item(path)))
                self._submit(index, path, lambda p=path: _photo_images(p, side))
            self.view.title.setText("Side by side: zoom or pan one, the other follows")
            more = f" (the first two of {len(selected)} selected)" if len(selected) > 2 else ""
            self.status.emit(f"Comparing {Path(selected[0]).name} and {Path(selected[1]).name}{more} (Esc: back)")
        elif not self._open_with_map(selected[0], side):
            return
        self.stack.setCurrentWidget(self.view)
        self.toggled.emit(True)

    def _open_with_map(self, path: str, side: int) -> bool:
        outcome = self.viewer.outcome
        if outcome is None or outcome.record.path != path or outcome.rgb is None:
            self.status.emit(f"Compare: {Path(path).name} is still being read; try again in a moment, or select a "
                             "second photo")
            return False
        photo, maps = self.view.panes
        caption = photo_caption(path, self.gallery_item(path))
        photo.show_reading(path, caption)
        self._submit(0, path, lambda rgb=outcome.rgb: _as_images(rgb, screen_preview(rgb, side)))
        choice = self._map_choice()
        maps.show_reading(path, f"{choice}: {caption}")
        if outcome.result is None:
            maps.show_error(f"No map: the photo was not scored ({outcome.record.status}: {outcome.record.error})")
        else:
            v = self.viewer
            alpha = max(v.opacity.value(), 30) / 100  # a map the opacity slider had faded out still shows
            args = (outcome.rgb, outcome.result, v.native, v.stride, choice, alpha, side)
            self._submit(1, path, lambda: _map_images(*args))
        self.view.title.setText("The photo and its map: zoom or pan one, the other follows")
        self.status.emit(f"Comparing {Path(path).name} with its map (Esc: back)")
        return True

    def _map_choice(self) -> str:
        """The overlay the viewer shows; with none chosen, the damage as the score counts it
        (once the native maps are in), else the whole photo's damage map."""
        chosen = self.viewer.overlay_box.currentText()
        if chosen not in ("", NONE):
            return chosen
        return IN_SCORE if self.viewer.native is not None else DISTORTION

    def _submit(self, index: int, path: str, work) -> None:
        self.tasks.submit(f"compare {index}", work,
                          on_done=lambda images: self._show(index, path, images),
                          on_error=lambda exc: self._failed(index, path, exc))

    def _show(self, index: int, path: str, images) -> None:
        pane = self.view.panes[index]
        if self.is_open and pane.path == path:
            preview, full, problem = images
            pane.show_photo(preview, full, note=f"Only part of it decodes: {problem}" if problem else "")

    def _failed(self, index: int, path: str, exc: Exception) -> None:
        pane = self.view.panes[index]
        if self.is_open and pane.path == path:
            pane.show_error(f"{Path(path).name} cannot be shown:\n{exc}")

    def close(self) -> None:
        if not self.is_open:
            return
        for index, pane in enumerate(self.view.panes):
            self.tasks.cancel(f"compare {index}")
            pane.show_error("")  # the photos' pixels are let go
            pane.path = None
        self.stack.setCurrentWidget(self.viewer)
        self.toggled.emit(False)
        self.status.emit("Back to the single viewer")

    @staticmethod
    def _preview_side() -> int:
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return PREVIEW_FALLBACK
        size = screen.size() * screen.devicePixelRatio()
        return max(size.width(), size.height(), 1024)
