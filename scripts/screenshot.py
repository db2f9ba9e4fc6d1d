"""Screenshot of the real window for the README: run under Xvfb (xvfb-run) with the default model.

    xvfb-run -s "-screen 0 1500x950x24" .venv/bin/python scripts/screenshot.py OUT.png PHOTO_FOLDER [OVERLAY [NAME]]

The photo NAME (default: the worst scored one) is shown with OVERLAY (default: the native damage
map, once it is computed).
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
from app.ui.gallery import PathRole, StatusRole
from app.ui.main_window import MainWindow
from app.ui.viewer import IN_SCORE, NATIVE


def main() -> None:
    out, folder = Path(sys.argv[1]), Path(sys.argv[2])
    overlay = sys.argv[3] if len(sys.argv) > 3 else NATIVE
    name = sys.argv[4] if len(sys.argv) > 4 else None
    app = QApplication(sys.argv)
    tmp = Path(tempfile.mkdtemp())
    window = MainWindow(default_model_dir(), tmp / "shot.db", QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    window.resize(1480, 920)
    window.show()
    window.batch.open_folder(folder)
    while window.is_busy() or not window.model.items:
        app.processEvents()
        time.sleep(0.01)
    window.sort_box.setCurrentText("score")
    rows = [window.proxy.index(r, 0) for r in range(window.proxy.rowCount())]
    scored = [i for i in rows if i.data(StatusRole) == "ok"]
    chosen = next((i for i in rows if name and i.data(PathRole).endswith(name)), scored[0] if scored else rows[0])
    window.gallery.setCurrentIndex(chosen)
    window.viewer.overlay_box.setCurrentText(overlay)
    deadline = time.time() + 300
    def ready() -> bool:
        v = window.viewer
        return v.outcome is not None and v.outcome.record.path == chosen.data(PathRole) and (
            overlay not in (NATIVE, IN_SCORE) or v.native is not None or v.outcome.result is None)
    while not ready() and time.time() < deadline:
        app.processEvents()
        time.sleep(0.01)
    window.viewer.render(fit=True)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    window.grab().save(str(out))
    window.close()  # stops and waits for background work before the process ends
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
