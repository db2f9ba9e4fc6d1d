"""What the window showed and how, kept across launches: the filter, the sort and its order,
whether folders are read with their sub-folders and watched, and (``values``) the gallery's
file-name search, score range and thumbnail size."""
from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLineEdit


class ViewOptions:
    def __init__(self, settings: QSettings, filter_box, sort_box, descending, recursive, watch,
                 values: dict | None = None):
        """``values``: settings key -> a QLineEdit (its text), a QSpinBox or a QSlider (its number)."""
        self.settings = settings
        self.boxes = {"filter": filter_box, "sort": sort_box}
        self.checks = {"descending": descending, "recursive": recursive, "watch": watch}
        self.values = dict(values or {})

    def restore(self) -> None:
        for key, box in self.boxes.items():
            if self.settings.contains(key):
                box.setCurrentText(str(self.settings.value(key)))
        for key, check in self.checks.items():
            check.setChecked(self.settings.value(key, False, type=bool))
        for key, widget in self.values.items():
            if not self.settings.contains(key):
                continue
            if isinstance(widget, QLineEdit):
                widget.setText(str(self.settings.value(key, "")))
            else:  # a number: a settings file edited by hand may hold anything, so out of range is clamped
                try:
                    widget.setValue(int(float(self.settings.value(key))))
                except (TypeError, ValueError):
                    pass

    def remember_changes(self) -> None:
        """From now on, every change is written to the settings as it is made."""
        for key, box in self.boxes.items():
            box.currentTextChanged.connect(lambda text, key=key: self.settings.setValue(key, text))
        for key, check in self.checks.items():
            check.toggled.connect(lambda on, key=key: self.settings.setValue(key, on))
        for key, widget in self.values.items():
            changed = widget.textChanged if isinstance(widget, QLineEdit) else widget.valueChanged
            changed.connect(lambda value, key=key: self.settings.setValue(key, value))
