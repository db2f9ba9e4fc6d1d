"""Load test: the real window (offscreen) watching a folder of many small photos.

    .venv/bin/python bench/load_test.py [--n 10000] [--size 160x120]

Reports, from one run: scoring time and rate; RSS over time (sampled every second, printed at
each tenth of the photos, so growth shows); how late a 20 ms timer was served while scoring
(the GUI's responsiveness); then the database queries the app makes, timed at that size
(median of 5), against the 100 ms budget.
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

from common import TimerLateness, make_photos, median_ms, rss_mb

from app.core.paths import default_model_dir


def watch_folder(model: Path, folder: Path, db: Path, n: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(model, db, QSettings(str(db.with_suffix(".ini")), QSettings.IniFormat))
    window.show()
    window.watch.setChecked(True)
    lateness = TimerLateness()
    samples = []  # (seconds, photos shown, RSS MB)
    start = time.perf_counter()
    next_sample = start
    window.batch.open_folder(folder)
    while len(window.model.items) < n:
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() >= next_sample:
            samples.append((time.perf_counter() - start, len(window.model.items), rss_mb()))
            next_sample += 1.0
    seconds = time.perf_counter() - start
    samples.append((seconds, len(window.model.items), rss_mb()))
    delays = lateness.stop()
    window.cancel()  # a watched folder never finishes on its own
    window.close()
    return {"seconds": seconds, "delays": delays, "samples": samples}


def query_timings(db_path: Path) -> list[tuple[str, float]]:
    from app.core.ratings.selection import select_for_rating
    from app.core.verdict import Thresholds
    from app.core.store import open_database
    from app.core.store.repository import (
        ScoreRecord,
        active_thresholds,
        model_versions,
        record_score,
        save_thresholds,
        score_rows,
        scored_paths,
    )

    db = open_database(db_path)
    mv = next(v.id for v in model_versions(db) if v.active)
    t = Thresholds()
    def timed_ms(fn):
        return median_ms(fn, 5, warmup=False)

    out = [
        ("scored_paths (skip what is done, at every folder open)", timed_ms(lambda: scored_paths(db, mv))),
        ("active_thresholds (once per batch)", timed_ms(lambda: active_thresholds(db, mv))),
        ("record_score (one photo: upsert image + score)", timed_ms(lambda: record_score(db, mv, ScoreRecord("/x/new.jpg", "ok", 50.0)))),
        ("save_thresholds (recompute every stored verdict)", timed_ms(lambda: save_thresholds(db, mv, "default", t))),
        ("score_rows (export CSV / report: every row)", timed_ms(lambda: score_rows(db, mv))),
        ("select_for_rating uncertain 50 (labeling chooser)", timed_ms(lambda: select_for_rating(db, mv, "uncertain", 50, t))),
        ("model_versions (Training panel)", timed_ms(lambda: model_versions(db))),
    ]
    db.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--size", default="160x120")
    ap.add_argument("--model", type=Path, default=default_model_dir() / "mobileiqa-student.onnx")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "photos").mkdir()
        make_photos(tmp / "photos", args.n, width, height)
        result = watch_folder(args.model, tmp / "photos", tmp / "load.db", args.n)
        delays = np.asarray(result["delays"])
        print(f"{args.n} photos {width}x{height} in a watched folder, the real window (offscreen), 2 CPU cores\n")
        print(f"scored in {result['seconds']:.0f} s ({args.n / result['seconds']:.1f} photos/s); a 20 ms timer was late "
              f"by at most {delays.max():.0f} ms (99th percentile {np.percentile(delays, 99):.0f} ms, median {np.median(delays):.0f} ms)\n")
        print("| photos shown | seconds | RSS (MB) |")
        print("|---:|---:|---:|")
        shown_marks = set()
        for seconds, shown, rss in result["samples"]:
            mark = shown * 10 // args.n
            if mark not in shown_marks:
                shown_marks.add(mark)
                print(f"| {shown} | {seconds:.0f} | {rss:.0f} |")
        print(f"\npeak RSS {max(s[2] for s in result['samples']):.0f} MB\n")
        print(f"| query at {args.n} photos | median ms (of 5) | under 100 ms |")
        print("|---|---:|---|")
        for name, ms in query_timings(tmp / "load.db"):
            print(f"| {name} | {ms:.1f} | {'yes' if ms < 100 else 'NO'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
