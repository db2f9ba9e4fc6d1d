"""How long the real window (offscreen, the shipped model) takes to show a folder already scored
when it is reopened at launch (the catalogue), and how much of it is spent decoding previews for
thumbnails. Generates N 12 MP JPEGs in DIR the first time and scores them once.

    .venv/bin/python bench/reopen_folder.py [N=50] [DIR]

Measured (2 shared cores, 50 photos of 4.3 MB): 4.6-5.0 s with thumbnails decoded again from the
files (3.3-3.7 s of previews, ~70 ms each); 1.5-1.8 s with the stored thumbnails (migration 0007).
A database from before 0007 draws and stores them at its first reopening."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import make_photos  # noqa: E402


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    tmp = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.core.paths import default_model_dir
    from app.core.scoring import catalogue
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    folder = tmp / "photos"
    if not folder.exists():
        folder.mkdir(parents=True)
        make_photos(folder, n, 4032, 3024)
    sizes = [p.stat().st_size for p in folder.glob("*.jpg")]
    print(f"{len(sizes)} JPEGs of 4032x3024, mean {sum(sizes) / len(sizes) / 1e6:.1f} MB")
    settings = QSettings(str(tmp / "s.ini"), QSettings.IniFormat)
    model = default_model_dir() / "mobileiqa-student.onnx"

    def launch(label: str) -> None:
        start = time.perf_counter()
        window = MainWindow(model, tmp / "bench.db", settings)  # reopens the last folder by itself
        window.show()
        if not settings.value("last_folder"):
            window.batch.open_folder(folder)
        while not (len(window.model.items) == n and not window.is_busy()):
            app.processEvents()
            time.sleep(0.002)
        print(f"{label}: {time.perf_counter() - start:.2f} s until {n} photos are shown", flush=True)
        window.close()

    if not (tmp / "bench.db").exists():
        launch("first opening (scoring)")
    real, spent = catalogue.load_preview_rgb, []

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t)

    catalogue.load_preview_rgb = timed
    for i in range(3):
        spent.clear()
        launch(f"relaunch {i + 1}")
        print(f"    previews decoded: {len(spent)}, {sum(spent):.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
