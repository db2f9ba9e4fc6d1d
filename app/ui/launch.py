"""Starting the window: its database first, and a person's way out when the data folder fails.

A station PC's data folder can be read-only, on a drive that is gone, or not a folder at all.
The window cannot exist without its database, so the person is told why in one sentence and may
choose another folder for the data (the database is made there) instead of meeting a traceback.
"""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from ..core.store.faults import cannot_open
from .main_window import MainWindow


def open_window(model_path: Path, database: str | Path, settings: QSettings | None = None) -> MainWindow | None:
    """The main window on ``database``, or on a database in a folder the person chooses when it
    cannot be opened; None when they choose none (nothing has been written)."""
    while True:
        try:
            return MainWindow(model_path, database, settings)
        except Exception as exc:  # an unwritable folder, a damaged file, an unreachable server
            answer = QMessageBox.question(
                None, "Cannot open the database",
                f"MobileIQA Inspector {cannot_open(str(database), exc)}.\n\nChoose another folder for the inspector's data? "
                "(To keep it there, start the program with --db or set MOBILEIQA_HOME.)",
                QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
            if answer != QMessageBox.Yes:
                return None
            folder = QFileDialog.getExistingDirectory(None, "Folder for the inspector's data")
            if not folder:
                return None
            database = Path(folder) / "inspector.db"


def run_gui(model_path: Path, database: str | Path) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("MobileIQA Inspector")
    window = open_window(model_path, database)
    if window is None:
        print("MobileIQA Inspector: no database could be opened; nothing was changed.", file=sys.stderr)
        return 1
    window.show()
    return app.exec()
