"""What the window showed and how, kept across launches: the filter, the sort and its order,
and whether folders are read with their sub-folders and watched."""
from __future__ import annotations

from PySide6.QtCore import QSettings


class ViewOptions:
    def __init__(self, settings: QSettings, filter_box, sort_box, descending, recursive, watch):
        self.settings = settings
        self.boxes = {"filter": filter_box, "sort": sort_box}
        self.checks = {"descending": descending, "recursive": recursive, "watch": watch}

    def restore(self) -> None:
        for key, box in self.boxes.items():
            if self.settings.contains(key):
                box.setCurrentText(str(self.settings.value(key)))
        for key, check in self.checks.items():
            check.setChecked(self.settings.value(key, False, type=bool))

    def remember_changes(self) -> None:
        """From now on, every change is written to the settings as it is made."""
        for key, box in self.boxes.items():
            box.currentTextChanged.connect(lambda text, key=key: self.settings.setValue(key, text))
        for key, check in self.checks.items():
            check.toggled.connect(lambda on, key=key: self.settings.setValue(key, on))
