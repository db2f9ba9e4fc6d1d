"""How late the window's event loop serves a 20 ms timer during each long action a user starts
(the real MainWindow, offscreen, the shipped model): scoring a folder of 12 MP photos, opening
another folder mid-batch, reopening a scored folder (the catalogue), the viewer's native damage
map of a 12 MP photo, and writing the HTML report. Prints a table; never a timed test.

    .venv/bin/python bench/responsiveness.py [--photos 6]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import TimerLateness, make_photos  # noqa: E402


def measure(app, action, done, seconds: float = 600) -> tuple[float, float, float]:
    """(worst ms late, 99th percentile, seconds) of the timer while ``action()`` runs to ``done()``."""
    lateness = TimerLateness()
    start = time.perf_counter()
    action()
    while not done() and time.perf_counter() - start < seconds:
        app.processEvents()
        time.sleep(0.002)
    took = time.perf_counter() - start
    delays = lateness.stop() or [0.0]
    return max(delays), float(np.percentile(delays, 99)), took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=6)
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.core.paths import default_model_dir
    from app.ui.main_window import MainWindow
    from app.ui.viewer import NATIVE

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp())
    first, second = tmp / "first", tmp / "second"
    first.mkdir()
    second.mkdir()
    make_photos(first, args.photos, 4032, 3024)
    make_photos(second, 2, 4032, 3024)
    window = MainWindow(default_model_dir() / "mobileiqa-student.onnx", tmp / "bench.db",
                        QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    window.show()
    idle = lambda: not window.is_busy() and window.model.items  # noqa: E731
    rows = [("score a folder of %d 12 MP photos" % args.photos,
             measure(app, lambda: window.batch.open_folder(first), idle))]
    rows.append(("open another folder mid-batch",
                 measure(app, lambda: (window.batch.open_folder(first), app.processEvents(), window.batch.open_folder(second)), idle)))
    rows.append(("reopen the scored folder (from the database)", measure(app, lambda: window.batch.open_folder(first), idle)))
    window.viewer.overlay_box.setCurrentText(NATIVE)
    rows.append(("native damage map of a 12 MP photo (viewer)",
                 measure(app, lambda: window.gallery.setCurrentIndex(window.proxy.index(1, 0)),
                         lambda: window.viewer.native is not None)))
    report = tmp / "report.html"
    rows.append(("write the HTML report", measure(app, lambda: window.outputs.export_report(report),
                                                   lambda: window.statusBar().currentMessage().startswith("Wrote"))))
    window.close()
    print(f"{os.cpu_count()} CPU cores; a 20 ms QTimer on the GUI thread; ms late past its period\n")
    print("| action | worst (ms) | 99th percentile (ms) | seconds |")
    print("|---|---:|---:|---:|")
    for name, (worst, p99, took) in rows:
        print(f"| {name} | {worst:.0f} | {p99:.0f} | {took:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
