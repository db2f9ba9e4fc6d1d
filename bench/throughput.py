"""Folder throughput, memory and window responsiveness, on generated photos; prints a table.

    .venv/bin/python bench/throughput.py [--n 200] [--size 1920x1080] [--model resources/models]

Measures, in one run on this machine:
- score alone: ONNX inference on photos already decoded in memory;
- decode + score + store: app.core.batch into a fresh SQLite database (what the app does);
- peak RSS of the process (sampled every 50 ms, and getrusage's maximum);
- with --gui: the real window (offscreen) scoring the folder while a 20 ms QTimer measures how
  late the event loop serves it (the worst and the 99th percentile delay).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.batch import score_batch  # noqa: E402
from app.core.engine import Engine  # noqa: E402
from app.core.imageio import load_rgb  # noqa: E402
from app.core.model_loader import load_model  # noqa: E402
from app.core.paths import default_model_dir  # noqa: E402
from app.core.store import open_database  # noqa: E402
from app.core.store.repository import register_model  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    def __init__(self, every: float = 0.05):
        super().__init__(daemon=True)
        self.every, self.peak, self.samples = every, 0.0, []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            value = rss_mb()
            self.samples.append(value)
            self.peak = max(self.peak, value)
            time.sleep(self.every)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def make_photos(folder: Path, n: int, width: int, height: int) -> list[Path]:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    paths = []
    for i in range(n):
        base = (np.sin(xx / (20 + i % 13)) * np.cos(yy / (17 + i % 7)) * 80 + 128)[..., None] * [1.0, 0.9, 0.7]
        img = np.clip(base + rng.normal(0, 3 + (i % 10) * 3, base.shape), 0, 255).astype(np.uint8)
        if i % 4 == 0:
            img = cv2.GaussianBlur(img, (0, 0), 1 + i % 5)
        path = folder / f"photo_{i:04d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def gui_responsiveness(model_path: Path, folder: Path, db: Path) -> tuple[float, float, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(db.with_suffix(".ini")), QSettings.IniFormat)
    window = MainWindow(model_path, db, settings)
    window.show()
    delays, clock, period = [], QElapsedTimer(), 20
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        delays.append(now - last[0] - period)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(period)
    start = time.perf_counter()
    window.open_folder(folder)
    while window.is_busy() or not window.model.items:
        app.processEvents()
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    timer.stop()
    window.close()
    return max(delays), float(np.percentile(delays, 99)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--gui", action="store_true", help="also measure the window's event-loop delay while scoring")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    model = load_model(args.model)
    engine = Engine(model)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "photos").mkdir()
        paths = make_photos(tmp / "photos", args.n, width, height)
        base_rss = rss_mb()
        sampler = RssSampler()
        sampler.start()
        t = time.perf_counter()
        decoded = [load_rgb(p) for p in paths[: min(20, args.n)]]
        decode_s = (time.perf_counter() - t) / len(decoded)
        engine.score(decoded[0])  # warm-up
        t = time.perf_counter()
        for i in range(args.n):
            engine.score(decoded[i % len(decoded)])
        infer_s = (time.perf_counter() - t) / args.n
        del decoded
        db = open_database(tmp / "bench.db")
        mv = register_model(db, model.card, str(model.onnx_path))
        t = time.perf_counter()
        summary = score_batch(paths, engine, db, mv)
        full_s = (time.perf_counter() - t) / args.n
        db.close()
        peak = sampler.stop()
        print(f"model {model.name} v{model.version}; {args.n} JPEGs {width}x{height}; onnxruntime threads: default\n")
        print("| measure | per photo | photos/s |")
        print("|---|---:|---:|")
        print(f"| decode only (JPEG -> RGB) | {decode_s * 1000:.0f} ms | {1 / decode_s:.1f} |")
        print(f"| score alone (in-memory, ONNX) | {infer_s * 1000:.0f} ms | {1 / infer_s:.2f} |")
        print(f"| decode + score + store (app.core.batch) | {full_s * 1000:.0f} ms | {1 / full_s:.2f} |")
        print(f"\nscored {summary.scored}, failed {summary.failed}; RSS before {base_rss:.0f} MB, "
              f"peak {peak:.0f} MB (sampled), ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if args.gui:
            worst, p99, seconds = gui_responsiveness(args.model, tmp / "photos", tmp / "gui.db")
            print(f"window (offscreen) scored the folder in {seconds:.0f} s; a 20 ms timer was late by at most "
                  f"{worst:.0f} ms (99th percentile {p99:.0f} ms)")


if __name__ == "__main__":
    main()
