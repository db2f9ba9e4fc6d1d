"""Screenshot of the real window for the README: run under Xvfb (xvfb-run) with the default model.

    xvfb-run -s "-screen 0 1500x950x24" .venv/bin/python scripts/screenshot.py OUT.png PHOTO_FOLDER
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.paths import default_model_dir
from app.ui.main_window import MainWindow


def main() -> None:
    out, folder = Path(sys.argv[1]), Path(sys.argv[2])
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(default_model_dir(), tmp / "shot.db", QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    window.resize(1480, 920)
    window.show()
    window.open_folder(folder)
    while window.is_busy() or not window.model.items:
        app.processEvents()
        time.sleep(0.01)
    window.sort_box.setCurrentText("score")
    worst = window.proxy.index(0, 0)
    window.gallery.setCurrentIndex(worst)
    window.viewer.overlay_box.setCurrentText("Distortion map")
    deadline = time.time() + 30
    while window.viewer.outcome is None and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.viewer.render(fit=True)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    window.grab().save(str(out))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
