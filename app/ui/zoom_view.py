"""The zoomable photo view the viewer and the compare panes share: wheel, keys and buttons zoom,
dragging pans, double-click fits. Scene coordinates are the photo's own pixels, so a zoom of 1.0
is 100 % (one photo pixel per screen pixel) whether the view holds the photo itself or a smaller
preview of it (``set_preview``: a 24 MP photo drawn at fit from a screen-sized copy)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

FIT, ACTUAL, BY = "fit", "actual", "by"  # how the person zoomed (ZoomView.stepped)


class ZoomView(QGraphicsView):
    """Wheel zooms around the cursor, dragging pans; double-click fits the photo."""

    zoomed = Signal(float)  # the zoom now (1.0 = 100 %)
    stepped = Signal(str, float)  # FIT, ACTUAL or BY with its factor: what another view may repeat

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.zoom = 1.0
        self.fitted = True  # following the view's size (Fit) until the person zooms
        self._full: QImage | None = None  # the photo at its own size, drawn once a preview would be enlarged
        self._preview_scale = 1.0  # preview pixels per photo pixel (1.0: the photo itself is shown)

    def set_pixmap(self, pixmap: QPixmap, fit: bool) -> None:
        self._full, self._preview_scale = None, 1.0
        self.item.setScale(1.0)
        self._show(pixmap, fit)

    def set_preview(self, preview: QPixmap, full: QImage, fit: bool = True) -> None:
        """Show ``preview`` (a smaller copy of ``full``) in the photo's own coordinates; the view
        swaps to ``full`` when zoomed past the preview's own resolution, so 100 % is native pixels."""
        self._full = full
        self._preview_scale = preview.width() / full.width() if full.width() else 1.0
        self.item.setScale(1.0 / self._preview_scale)
        self._show(preview, fit, QRectF(0, 0, full.width(), full.height()))
        self._sharpen()

    def _show(self, pixmap: QPixmap, fit: bool, photo: QRectF | None = None) -> None:
        self.item.setPixmap(pixmap)
        self.scene().setSceneRect(photo if photo is not None else self.item.sceneBoundingRect())
        if fit:
            self.fit()

    @property
    def shows_full_resolution(self) -> bool:
        return self._preview_scale == 1.0

    def _sharpen(self) -> None:
        """Past the preview's resolution the photo itself is drawn (converted once, on first need)."""
        if self._full is not None and self.zoom > self._preview_scale:
            full, self._full = self._full, None
            self._preview_scale = 1.0
            self.item.setScale(1.0)
            self.item.setPixmap(QPixmap.fromImage(full))

    def _zoom_changed(self, how: str, factor: float = 1.0) -> None:
        self.zoom = self.transform().m11()
        self._sharpen()
        self.zoomed.emit(self.zoom)
        self.stepped.emit(how, factor)

    def fit(self) -> None:
        """The whole photo in view, never enlarged beyond 100 %: a photo smaller than the view shows
        at its own size (an enlarged one looks softer than it is, to a person judging its quality)."""
        self.fitted = True
        self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
        self._zoom_changed(FIT)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.fitted:  # a fitted photo keeps fitting as the window grows or shrinks
            self.fit()

    def actual_size(self) -> None:
        """1:1 — one photo pixel per screen pixel."""
        self.fitted = False
        self.resetTransform()
        self._zoom_changed(ACTUAL)

    def zoom_by(self, factor: float) -> None:
        self.fitted = False
        self.scale(factor, factor)
        self._zoom_changed(BY, factor)

    def wheelEvent(self, event) -> None:
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    def mouseDoubleClickEvent(self, event) -> None:
        self.fit()

    # Where the view looks, as a fraction of the photo's width and height: two photos of
    # different sizes are aligned by it (app.ui.zoom_link).
    def relative_centre(self) -> QPointF:
        rect, centre = self.sceneRect(), self.mapToScene(self.viewport().rect().center())
        if rect.width() <= 0 or rect.height() <= 0:
            return QPointF(0.5, 0.5)
        return QPointF((centre.x() - rect.x()) / rect.width(), (centre.y() - rect.y()) / rect.height())

    def centre_on_relative(self, where: QPointF) -> None:
        rect = self.sceneRect()
        self.centerOn(rect.x() + where.x() * rect.width(), rect.y() + where.y() * rect.height())

    def visible_photo_rect(self) -> QRectF:
        """The part of the photo in view, in its own pixels."""
        return self.mapToScene(self.viewport().rect()).boundingRect().intersected(self.sceneRect())
