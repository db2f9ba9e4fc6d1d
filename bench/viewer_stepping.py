"""How long the next key takes to show the next photo, as an inspector steps through a folder:
the real window (offscreen), photos of the sizes users have, each photo looked at until its map is
drawn before the next key (as a person studies it), with and without the prefetch of the next one.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/viewer_stepping.py --photos DIR... [--sizes 12 48] [--steps 5]

Prints a markdown table: megapixels, prefetch on / off, the median and the worst time from the key
press to the photo shown (its score and verdict in the caption).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.paths import default_model_dir  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402


def wait(app, condition, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not condition():
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the window did not answer")
    return time.perf_counter() - start


def make_folder(sources: list[Path], megapixels: float, steps: int, out: Path) -> Path:
    """``steps + 1`` JPEGs of ``megapixels`` from the source photos (resized, saved at q92)."""
    folder = out / f"{megapixels:g}mp"
    folder.mkdir(parents=True)
    for i in range(steps + 1):
        rgb = load_rgb(sources[i % len(sources)])
        h, w = rgb.shape[:2]
        f = (megapixels * 1e6 / (h * w)) ** 0.5
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
        cv2.imwrite(str(folder / f"photo{i:02d}.jpg"), rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])
    return folder


def step_times(app, folder: Path, steps: int, prefetch: bool, home: Path) -> list[float]:
    window = MainWindow(default_model_dir(), home / f"{folder.name}-{prefetch}.db",
                        QSettings(str(home / "s.ini"), QSettings.IniFormat))
    window.resize(1400, 900)
    window.show()
    if not prefetch:
        window.navigation.viewer_jobs.prefetch = lambda engine, path: None
    window.batch.open_folder(folder)
    wait(app, lambda: len(window.model.items) == steps + 1 and not window.is_busy(), timeout=1800)
    window.sort_box.setCurrentText("name")
    window.gallery.setCurrentIndex(window.proxy.index(0, 0))
    times = []
    for row in range(steps + 1):
        path = window.proxy.index(row, 0).data(Qt.UserRole + 1)
        if row:
            QTest.keyClick(window.viewer, Qt.Key_Right)
            times.append(wait(app, lambda: window.viewer.outcome is not None and window.viewer.outcome.record.path == path))
        wait(app, lambda: window.viewer.native is not None)  # looked at until its map is drawn
        wait(app, lambda: not window.navigation.viewer_jobs.busy())  # the prefetch, if any, done
    window.close()
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", nargs="+", type=Path, required=True, help="folders of source photos")
    ap.add_argument("--sizes", nargs="+", type=float, default=[12, 48], help="megapixels")
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    sources = sorted(p for d in args.photos for p in d.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    app = QApplication.instance() or QApplication(sys.argv)
    home = Path(tempfile.mkdtemp())
    print("| photo | prefetch | median key to photo shown (s) | worst (s) |\n|---|---|---|---|")
    for mp in args.sizes:
        folder = make_folder(sources, mp, args.steps, home)
        for prefetch in (False, True):
            t = step_times(app, folder, args.steps, prefetch, home)
            print(f"| {mp:g} MP | {'on' if prefetch else 'off'} | {statistics.median(t):.2f} | {max(t):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
