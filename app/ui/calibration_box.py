"""The Training window's site calibration: what it is, Fit / Apply / Remove, and what the last fit
showed (plain words, and its figures with Details). A widget only: the training controller fits,
applies and removes (the calibration acts on the model in use, which the window's workspace owns).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

ABOUT = ("Quick site calibration (seconds, no training): adjusts the model's scores to your raters' "
         "opinions. Apply is offered only when it clearly helps.")
ABOUT_DETAILS = ("A monotone map of the model's score to the site's MOS, plus a ridge or a kernel ridge on what "
                 "the model saw in each photo (its embedding, and its network's pooled stages where the model stores "
                 "them) where that earns its place (which, and its lambda, chosen by cross-validation), checked by "
                 "nested cross-validation and a paired bootstrap of the SRCC gain.")


class CalibrationBox(QWidget):
    fit_requested = Signal()
    apply_requested = Signal()
    remove_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("Site calibration: none.")
        self.details = QLabel()  # the figures behind the last fit
        self.fit_button = QPushButton("Fit calibration on the ratings")
        self.apply_button = QPushButton("Apply")
        self.remove_button = QPushButton("Remove")
        self.apply_button.setEnabled(False)
        self.fit_button.clicked.connect(self.fit_requested)
        self.apply_button.clicked.connect(self.apply_requested)
        self.remove_button.clicked.connect(self.remove_requested)
        about, about_details = QLabel(ABOUT), QLabel(ABOUT_DETAILS)
        self.detail_texts = (about_details, self.details)  # shown with Details only
        # on one line the calibration's text made the window 1,490 px wide: every text wraps
        for label in (about, self.label, *self.detail_texts):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for w in (self.fit_button, self.apply_button, self.remove_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(about)
        layout.addWidget(about_details)
        layout.addLayout(buttons)
        layout.addWidget(self.label)
        layout.addWidget(self.details)
