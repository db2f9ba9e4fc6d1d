"""The EXIF panel: how the photo in the viewer was taken.

ISO and shutter speed come first and large: between them they explain most of the noise and the
blur an inspector judges, so they are read at a glance, each with a plain hint when it is in the
range where noise or shake blur is likely. The rest (camera, lens, aperture, focal length, when)
is a form below. The panel only shows what it is given: the window reads the EXIF off the GUI
thread (app.core.imageio.exif) and hands the result here.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFormLayout, QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from ..core.imageio.exif import (
    OK,
    CameraSettings,
    aperture_text,
    blur_hint,
    focal_text,
    noise_hint,
    shutter_text,
)

UNKNOWN = "—"  # recorded by no tag: a dash, never a guess
HINT_STYLE = "color: #a05a00;"  # amber: worth a look, not an error


class ExifPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.iso, self.shutter = QLabel(UNKNOWN), QLabel(UNKNOWN)
        self.iso_hint, self.shutter_hint = QLabel(), QLabel()
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.9)
        big.setBold(True)
        tiles = QGridLayout()
        for column, (caption, value, hint) in enumerate((("ISO", self.iso, self.iso_hint),
                                                         ("Shutter", self.shutter, self.shutter_hint))):
            value.setFont(big)
            hint.setStyleSheet(HINT_STYLE)
            hint.setWordWrap(True)
            tiles.addWidget(QLabel(caption), 0, column)
            tiles.addWidget(value, 1, column)
            tiles.addWidget(hint, 2, column)
        tiles.setColumnStretch(0, 1)
        tiles.setColumnStretch(1, 1)
        self.camera, self.lens, self.aperture, self.focal, self.taken = (QLabel(UNKNOWN) for _ in range(5))
        form = QFormLayout()
        for caption, label in (("Camera", self.camera), ("Lens", self.lens), ("Aperture", self.aperture),
                               ("Focal length", self.focal), ("Taken", self.taken)):
            label.setWordWrap(True)
            label.setTextFormat(Qt.PlainText)  # a camera's text is shown as written, never as markup
            form.addRow(caption, label)
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        details.addLayout(tiles)
        details.addWidget(line)
        details.addLayout(form)
        self.note = QLabel()  # no EXIF, or why it could not be read
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.details)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.show_nothing()

    def show_nothing(self, text: str = "Select a photo to see how it was taken") -> None:
        self.title.setText(text)
        self.details.hide()
        self.note.hide()

    def show_reading(self, path: str) -> None:
        """Between selecting a photo and its EXIF arriving: the old photo's values never stay."""
        self.title.setText(f"<b>{_escape(Path(path).name)}</b>: reading…")
        self.details.hide()
        self.note.hide()

    def show_settings(self, path: str, s: CameraSettings) -> None:
        self.title.setText(f"<b>{_escape(Path(path).name)}</b>")
        if s.status != OK:
            self.details.hide()
            self.note.setText(_sentence(s.note or "no EXIF in this photo"))
            self.note.show()
            return
        self.note.hide()
        self.iso.setText(str(s.iso) if s.iso is not None else UNKNOWN)
        self.shutter.setText(shutter_text(s.exposure_s) if s.exposure_s is not None else UNKNOWN)
        self.iso_hint.setText(noise_hint(s))
        self.shutter_hint.setText(blur_hint(s))
        self.camera.setText(s.camera or UNKNOWN)
        self.lens.setText(s.lens or UNKNOWN)
        self.aperture.setText(aperture_text(s.f_number) if s.f_number is not None else UNKNOWN)
        self.focal.setText(focal_text(s) or UNKNOWN)
        self.taken.setText(s.taken or UNKNOWN)
        self.details.show()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
