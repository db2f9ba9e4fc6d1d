"""The photo viewer: zoom and pan, heatmap overlays, score, verdict and the views' opinions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..core.scoring import overlay
from ..core.verdict import Thresholds, in_force
from .images import to_qimage
from .zoom_view import ZoomView

NONE, FUSED = "None", "Attention (all views)"
DISTORTION = "Damage (whole photo)"  # the overview's map: what the score was made of
NATIVE = "Damage at 100 % (tiled)"  # the detail network's plain map of native tiles (its damage head's)
IN_SCORE = "Damage as the score counts it"  # overview and tiles weighted as in the score, at native resolution


def _legend_strip(bar: np.ndarray, low: str, high: str) -> np.ndarray:
    """The colour bar with its two ends named, as one RGB image."""
    import cv2

    strip = np.full((30, 520, 3), 240, np.uint8)
    strip[2:14, 130:386] = bar
    for text, x in ((low, 2), (high, 392)):
        cv2.putText(strip, text[:24], (x, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (40, 40, 40), 1, cv2.LINE_AA)
    return strip


def compose(rgb: np.ndarray, result, native, stride: int | None, choice: str, alpha: float) -> np.ndarray:
    """``rgb`` with the overlay named ``choice`` (one of the viewer's) drawn at ``alpha``. Numpy
    only: the compare view calls it off the GUI thread."""
    if result is None or choice in ("", NONE):
        return rgb
    cell = result.cell if stride else None  # the overview's maps, stretched over the photo
    if choice in (NATIVE, IN_SCORE):
        if native is None:
            return rgb
        damage = native.tiles if choice == NATIVE else native.in_score
        return overlay.distortion_overlay(rgb, damage, stride, alpha)
    if choice == DISTORTION:
        return overlay.distortion_overlay(rgb, result.distortion, cell, alpha)
    if choice == FUSED:
        return overlay.attention_overlay(rgb, overlay.fused_attention(result.attention, result.fusion_weights), cell, alpha)
    view = int(choice.rsplit(" ", 1)[1]) - 1
    return overlay.attention_overlay(rgb, result.attention[view], cell, alpha)


class Viewer(QWidget):
    next_requested = Signal(int)  # +1 / -1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = ZoomView()
        self.overlay_box = QComboBox()
        self.overlay_box.setObjectName("overlay")
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.info = QLabel("Select a photo")
        self.info.setObjectName("info")
        self.info.setWordWrap(True)
        self.details = QLabel("")  # file, size, dimensions, capture time, camera
        self.details.setWordWrap(True)
        self.legend = QLabel()  # the chosen overlay's fixed colour scale
        self.zoom_label = QLabel("")
        fit, one = QPushButton("Fit"), QPushButton("1:1")
        fit.clicked.connect(self.view.fit)
        one.clicked.connect(self.view.actual_size)
        self.view.zoomed.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Overlay"))
        bar.addWidget(self.overlay_box)
        bar.addWidget(QLabel("Opacity"))
        bar.addWidget(self.opacity)
        bar.addWidget(fit)
        bar.addWidget(one)
        bar.addWidget(self.zoom_label)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.info)
        layout.addWidget(self.details)
        self.overlay_box.currentIndexChanged.connect(lambda _: self.render(fit=False))
        self.opacity.valueChanged.connect(lambda _: self.render(fit=False))
        self.outcome = None
        self.native = None  # the native damage map of the current photo, once computed
        self.map_state = ""  # "computing map 3/48", "map failed: ...", or ""
        self.stride: int | None = 16
        self.thresholds = Thresholds()
        self.review = None  # the inspector's decision on the photo shown (ReviewState), if any

    def set_views(self, views: int) -> None:
        self.overlay_box.blockSignals(True)
        self.overlay_box.clear()
        self.overlay_box.addItems([NONE, FUSED] + [f"Attention view {v + 1}" for v in range(views)] + [DISTORTION, NATIVE, IN_SCORE])
        self.overlay_box.blockSignals(False)

    def show_outcome(self, outcome, stride: int | None, thresholds: Thresholds, review=None) -> None:
        self.outcome, self.stride, self.thresholds, self.review = outcome, stride, thresholds, review
        self.native, self.map_state = None, "computing map…" if outcome.result is not None else ""
        self.render(fit=True)

    def clear(self) -> None:
        """No photo: what the gallery shows holds none (a filter that matches nothing)."""
        self.outcome, self.native, self.review, self.map_state = None, None, None, ""
        self.render(fit=True)

    def show_review(self, review) -> None:
        """A decision on the photo shown was made or changed (here or at another station)."""
        self.review = review
        self.info.setText(self.describe())

    def show_map_progress(self, done: int, total: int) -> None:
        self.map_state = f"computing map {done}/{total}"
        self.info.setText(self.describe())

    def show_native(self, damage) -> None:
        """The native damage maps (NativeMaps), None when cancelled, or the error that stopped them."""
        if isinstance(damage, Exception):
            self.native, self.map_state = None, f"map failed: {damage}"
        else:
            self.native, self.map_state = damage, ""
        self.render(fit=False)

    def composed(self):
        """The photo with the chosen overlay, as an RGB array (None without a photo)."""
        o = self.outcome
        if o is None or o.rgb is None:
            return None
        return compose(o.rgb, o.result, self.native, self.stride, self.overlay_box.currentText(), self.opacity.value() / 100)

    def render(self, fit: bool) -> None:
        rgb = self.composed()
        if rgb is None:
            self.view.set_pixmap(QPixmap(), fit)
        else:
            self.view.set_pixmap(QPixmap.fromImage(to_qimage(rgb)), fit)
        self.info.setText(self.describe())
        self.details.setText(self.describe_file())
        self._show_legend()

    def _show_legend(self) -> None:
        choice = self.overlay_box.currentText()
        if choice in ("", NONE) or self.outcome is None or self.outcome.result is None:
            self.legend.clear()
            return
        damage = choice in (DISTORTION, NATIVE, IN_SCORE)
        low, high = ("0 clean", "1 badly damaged") if damage else \
            ("0× (ignored)", f"{overlay.ATTENTION_MAX_RATIO:g}× uniform attention or more")
        bar = overlay.colorize(np.tile(np.linspace(0, 1, 256, dtype=np.float32), (12, 1)), 0.0, 1.0)
        self.legend.setPixmap(QPixmap.fromImage(to_qimage(_legend_strip(bar, low, high))))

    def describe_file(self) -> str:
        o = self.outcome
        if o is None:
            return ""
        rec = o.record
        parts = [Path(rec.path).name]
        if rec.width and rec.height:
            parts.append(f"{rec.width}×{rec.height} ({rec.width * rec.height / 1e6:.1f} MP)")
        if rec.size_bytes:
            parts.append(f"{rec.size_bytes / 1e6:.1f} MB" if rec.size_bytes >= 1e5 else f"{rec.size_bytes / 1e3:.0f} KB")
        if o.exif is not None:  # the EXIF panel's reader, so both say the date the same way
            parts += [text for text in (o.exif.taken, o.exif.camera) if text]
        return "   ·   ".join(parts)

    def describe(self) -> str:
        o = self.outcome
        if o is None:
            return "Select a photo"
        rec = o.record
        if rec.status != "ok":
            return f"{rec.status.upper()}: {rec.error}"
        said = self.thresholds.verdict(rec.score)
        opinions = "   ".join(f"view {i + 1}: {v:.1f}" for i, v in enumerate(rec.opinions))
        text = f"Score {rec.score:.1f} / 100 — {self._verdict(said)}"
        r = o.result
        if r is not None and r.overview_score is not None:
            text += f"   |   whole photo {r.overview_score:.1f}"
            text += f"   detail at 100 %: {r.detail_score:.1f}" if r.detail_score is not None else "   (no detail beyond the viewing size)"
        if r is not None and r.exposure_capped:
            text += f"   |   {r.exposure.kind}-exposed: capped at {r.exposure.score:.1f}"
        if r is not None and r.sharpness_capped:
            text += f"   |   blurred at 100 %: capped at {r.sharpness.score:.1f}"
        if r is not None and r.detail_capped:
            text += f"   |   damage at 100 %: capped at {r.raw_score:.1f}"
        text += f"   |   attention views: {opinions}"
        return text + (f"   |   {self.map_state}" if self.map_state else "")

    def _verdict(self, said: str) -> str:
        """The verdict in force, with who decided it over the model, and why."""
        r = self.review
        if r is None or not r.overridden:
            return said.upper()
        reason = f": {r.why}" if r.why else ""
        return f"{in_force(said, r.decision).upper()} ({r.decision} by {r.reviewer}{reason}; the model said {said.upper()})"

    def keyPressEvent(self, event) -> None:
        keys = {Qt.Key_Right: 1, Qt.Key_Down: 1, Qt.Key_Space: 1, Qt.Key_Left: -1, Qt.Key_Up: -1}
        if event.key() in keys:
            self.next_requested.emit(keys[event.key()])
        else:  # + and - zoom through the View menu's actions (app.ui.menus), here and in the compare view
            super().keyPressEvent(event)
