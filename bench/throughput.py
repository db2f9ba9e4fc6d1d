"""Folder throughput, memory and window responsiveness, on generated photos; prints a table.

    .venv/bin/python bench/throughput.py [--n 200] [--size 1920x1080] [--model resources/models]

Measures, in one run on this machine:
- score alone: ONNX inference on photos already decoded in memory;
- decode + score + store: app.core.scoring.photo into a fresh SQLite database (what the app does);
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
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RssSampler, TimerLateness, make_photos, rss_mb

from app.core.scoring.photo import score_batch
from app.core.scoring.engine import Engine
from app.core.imageio.decode import load_rgb
from app.core.model.loader import load_model
from app.core.paths import default_model_dir
from app.core.store import open_database
from app.core.store.repository import register_model


def gui_responsiveness(model_path: Path, folder: Path, db: Path) -> tuple[float, float, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(db.with_suffix(".ini")), QSettings.IniFormat)
    window = MainWindow(model_path, db, settings)
    window.show()
    lateness = TimerLateness()
    start = time.perf_counter()
    window.batch.open_folder(folder)
    while window.is_busy() or not window.model.items:
        app.processEvents()
        time.sleep(0.002)
    seconds = time.perf_counter() - start
    delays = lateness.stop()
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
        print(f"| decode + score + store (app.core.scoring.photo) | {full_s * 1000:.0f} ms | {1 / full_s:.2f} |")
        print(f"\nscored {summary.scored}, failed {summary.failed}; RSS before {base_rss:.0f} MB, "
              f"peak {peak:.0f} MB (sampled), ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        if args.gui:
            worst, p99, seconds = gui_responsiveness(args.model, tmp / "photos", tmp / "gui.db")
            print(f"window (offscreen) scored the folder in {seconds:.0f} s; a 20 ms timer was late by at most "
                  f"{worst:.0f} ms (99th percentile {p99:.0f} ms)")


if __name__ == "__main__":
    main()
