"""The row above the gallery that narrows and sizes it: a file-name search, a score range and
the thumbnail size. Each works with the Show filter and the sort (GalleryFilter holds them all);
the window remembers their values across launches (ViewOptions), and the View menu's larger /
smaller actions move the same slider. No I/O."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSlider, QSpinBox, QVBoxLayout, QWidget

from .gallery import THUMB_MAX, THUMB_MIN, THUMB_SIZE, THUMB_STEP, GalleryFilter, GalleryView

SCORE_MIN, SCORE_MAX = 0, 100  # the range at its ends filters nothing (files not scored show too)
SEARCH_PAUSE_MS = 150  # typing refilters once it pauses: every key on 10,000 photos would lag


class GalleryControls(QWidget):
    narrowed = Signal()  # the search or the score range changed what the gallery shows
    status = Signal(str)  # one line for the status bar

    def __init__(self, proxy: GalleryFilter, view: GalleryView, parent: QWidget | None = None):
        super().__init__(parent)
        self.proxy, self.view = proxy, view
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search file names")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only photos whose file name holds this text (any case)")
        self.low, self.high = QSpinBox(), QSpinBox()
        for box, value, tip in ((self.low, SCORE_MIN, "lowest score shown"),
                                (self.high, SCORE_MAX, "highest score shown")):
            box.setRange(SCORE_MIN, SCORE_MAX)
            box.setValue(value)
            box.setToolTip(f"The {tip}; 0 to 100 shows every photo, unscored files too")
            box.setKeyboardTracking(False)  # "45" typed is one change, not a 4 then a 45
        self.size = QSlider(Qt.Horizontal)
        self.size.setRange(THUMB_MIN, THUMB_MAX)
        self.size.setSingleStep(THUMB_STEP)
        self.size.setPageStep(THUMB_STEP)
        self.size.setValue(THUMB_SIZE)
        self.size.setMaximumWidth(110)
        self.size.setToolTip("Thumbnail size (View menu: Ctrl++ larger, Ctrl+- smaller)")
        # The search on a line of its own: beside the range and the slider, the gallery's narrow
        # pane left it a few letters wide.
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addWidget(self.search)
        row = QHBoxLayout()
        for w in (QLabel("Score"), self.low, QLabel("–"), self.high):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(QLabel("Size"))
        row.addWidget(self.size)
        rows.addLayout(row)

        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self._search)
        self.search.textChanged.connect(lambda _: self._pause.start())
        self.search.returnPressed.connect(self._search)  # Enter: at once
        self.low.valueChanged.connect(self._low_changed)
        self.high.valueChanged.connect(self._high_changed)
        self.size.valueChanged.connect(view.set_thumb_size)
        view.selectionModel().selectionChanged.connect(self._selection_changed)

    def apply(self) -> None:
        """Apply every value now (after they are restored from the settings)."""
        self._pause.stop()
        self.proxy.set_search(self.search.text())
        self._range(self.low.value(), self.high.value())
        self.view.set_thumb_size(self.size.value())

    def larger(self) -> None:
        self.size.setValue(self.size.value() + THUMB_STEP)

    def smaller(self) -> None:
        self.size.setValue(self.size.value() - THUMB_STEP)

    def _search(self) -> None:
        self._pause.stop()
        if self.proxy.search != self.search.text().strip().lower():
            self.proxy.set_search(self.search.text())
            self.narrowed.emit()

    def _low_changed(self, low: int) -> None:
        if low > self.high.value():  # the boxes never cross: one moved past the other carries it
            self.high.setValue(low)  # which applies the range
        else:
            self._range(low, self.high.value())

    def _high_changed(self, high: int) -> None:
        if high < self.low.value():
            self.low.setValue(high)
        else:
            self._range(self.low.value(), high)

    def _range(self, low: int, high: int) -> None:
        if low <= SCORE_MIN and high >= SCORE_MAX and self.proxy.score_range is None:
            return  # no range before, none now
        # An end left at its limit is open: a calibrated score just past 100 still shows; both
        # at their limits, no range at all.
        self.proxy.set_score_range(None if low <= SCORE_MIN else float(low), None if high >= SCORE_MAX else float(high))
        self.narrowed.emit()

    def _selection_changed(self, *_args) -> None:
        n = len(self.view.selectionModel().selectedIndexes())
        if n > 1:  # the one way to see that A, X or M is about to decide many photos
            self.status.emit(f"{n} photos selected: Accept, Reject or Mark reviewed decides them all")
