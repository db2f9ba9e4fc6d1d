"""The window on a shared database of a million score rows: how long the GUI thread stalls while
each action a user starts runs (the real MainWindow, offscreen, the shipped model; a 20 ms timer
on the GUI thread, its worst lateness per action). Prints a table; never a timed test.

The database is generated once (SQLite, the shipped model's version registered by a Workspace,
then ``--rows`` archive rows of other folders written with sqlite3 directly, as an archive run
over the same model would leave them), beside a folder of ``--photos`` small photos the window
scores. The actions are those of issue 23: opening the folder, exporting its CSV, saving
thresholds, opening the Training panel, removing a site calibration (every stored score
recomputed), choosing photos to rate, a labeling key press, fitting a site calibration (40 of
the folder's photos rated by 3 raters first, unmeasured), and switching the model. Run it on
an older checkout (same command there) for the before column.

    .venv/bin/python bench/responsiveness_shared.py [--rows 1000000] [--photos 500] [--work DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import make_photos  # noqa: E402


def fill(db_path: Path, model_path: Path, rows: int) -> None:
    """``rows`` archive photos scored by the shipped model, none of them in the window's folder."""
    from app.core.workspace import Workspace

    ws = Workspace(db_path)
    ws.load_model(model_path)
    version = ws.model_version_id
    ws.close()
    rng = np.random.default_rng(0)
    now = "2026-12-01 00:00:00.000000"
    with sqlite3.connect(db_path) as c:
        start = c.execute("select coalesce(max(id), 0) from images").fetchone()[0] + 1
        for at in range(0, rows, 50_000):
            n = min(50_000, rows - at)
            ids = range(start + at, start + at + n)
            c.executemany("insert into images (id, path, content_hash, size_bytes, width, height, source, first_seen, "
                          "last_seen) values (?, ?, ?, 200000, 4032, 3024, 'archive', ?, ?)",
                          ((i, f"/archive/{i // 1000:05d}/{i:08d}.jpg", f"{i:064x}", now, now) for i in ids))
            scores = rng.uniform(5, 95, n)
            c.executemany("insert into scores (image_id, model_version_id, status, score, raw_score, opinions, "
                          "verdict, seconds, scored_at) values (?, ?, 'ok', ?, ?, ?, ?, 0.2, ?)",
                          ((i, version, float(s), float(s), json.dumps([float(s) + d for d in (-3.0, 0.0, 3.0)]),
                            "pass" if s >= 60 else "fail" if s < 40 else "review", now)
                           for i, s in zip(ids, scores)))
        c.commit()


def rate_the_folder(ws, folder: Path, raters: int = 3, photos: int = 40) -> None:
    """``photos`` of the window's folder rated by ``raters`` who agree with the model's order, as a
    site's rating sessions leave them (the fit needs 3 standing votes a photo). Setup, not measured."""
    from app.core.ratings.session import LabelingSession
    from app.core.store.repository import score_rows

    scored = score_rows(ws.db, ws.model_version_id, [str(p) for p in sorted(folder.iterdir())[:photos]])
    order = [r["path"] for r in sorted(scored, key=lambda r: r["score"] or 0.0)]
    for rater in range(raters):
        session = LabelingSession(ws.db, f"bench-rater-{rater}", "bench", order)
        while (item := session.current()) is not None:
            session.vote(1 + (4 * order.index(item.path)) // max(1, len(order) - 1))


def measure(app, action, done, seconds: float = 900, period_ms: int = 20) -> tuple[float, float]:
    """(the GUI thread's longest stall in ms, seconds until ``done()``) while ``action()`` runs.

    The stall is the longest time a 20 ms timer on the GUI thread went unserved, past its period,
    counted from the moment the action starts: an action that runs its work on the GUI thread
    stalls it for as long as the work takes, though no tick can be late while it blocks."""
    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(period_ms)
    start = time.perf_counter()
    action()
    while not done() and time.perf_counter() - start < seconds:
        app.processEvents()
        time.sleep(0.002)
    time.sleep(period_ms / 1000)
    app.processEvents()  # the first tick after an action that returned only when its work was done
    end = time.perf_counter()
    timer.stop()
    marks = [start, *ticks, end]
    longest = max(b - a for a, b in zip(marks, marks[1:]))
    return max(0.0, longest * 1000 - period_ms), end - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--photos", type=int, default=500)
    ap.add_argument("--work", type=Path, help="keep the generated database and photos here (reused)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.core.paths import default_model_dir
    from app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    work = args.work or Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    model = default_model_dir() / "mobileiqa-student.onnx"
    # The database records where this checkout's model lives (the site's chosen version): one per checkout.
    checkout = hashlib.sha256(str(model).encode()).hexdigest()[:8]
    folder, template = work / "folder", work / f"shared-{args.rows}-{checkout}.db"
    if not folder.is_dir():
        folder.mkdir()
        make_photos(folder, args.photos, 640, 480)
    if not template.exists():
        t = time.perf_counter()
        fill(template, model, args.rows)
        print(f"generated {args.rows:,} archive rows in {time.perf_counter() - t:.0f} s", flush=True)
    db = work / "bench.db"
    db.write_bytes(template.read_bytes())  # every run starts from the same database
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)

    settings = QSettings(str(work / "s.ini"), QSettings.IniFormat)
    settings.clear()
    window = MainWindow(model, db, settings)
    window.show()
    status = lambda: window.statusBar().currentMessage()  # noqa: E731
    shown = lambda: len(window.model.items) == args.photos and not window.is_busy()  # noqa: E731
    loaded = time.perf_counter()
    while window.workspace.engine is None and time.perf_counter() - loaded < 120:
        app.processEvents()
        time.sleep(0.01)
    if window.workspace.engine is None:  # never measure a window that could not load its model
        print(f"no model loaded: {status()}", file=sys.stderr)
        window.close()
        return 1
    rows = [(f"open a {args.photos}-photo folder (scored now)", measure(app, lambda: window.batch.open_folder(folder), shown))]
    csv = work / "gallery.csv"
    rows.append(("export the gallery's CSV", measure(app, lambda: window.outputs.export_csv(csv),
                                                     lambda: status().startswith(("Exported", "Nothing")))))
    rows.append(("save thresholds", measure(app, lambda: window.profiles.save(window.panel.thresholds(), "bench"),
                                            lambda: status().startswith("Saved threshold"))))
    background = lambda: getattr(window, "tasks", None) is not None and window.tasks.busy()  # noqa: E731
    rows.append(("open the Training panel (the station's ratings and versions)",
                 measure(app, window.open_training, lambda: window.training is not None and not background())))
    rows.append(("remove the site calibration (every stored score recomputed)",
                 measure(app, lambda: window.training_controller.apply_calibration(None),
                         lambda: status().startswith("Removed site calibration"))))
    before = window.labeling
    rows.append(("choose 50 photos to rate (most uncertain first)",
                 measure(app, lambda: window.rating.open_labeling("Most uncertain first (the model's views disagree)", 50),
                         lambda: window.labeling is not before and window.labeling is not None)))
    panel = window.labeling
    panel.rater.setText("bench")
    panel.sign_in()
    measure(app, lambda: None, panel.ready, 120)
    rows.append(("a labeling key press (vote, next photo shown)",
                 measure(app, lambda: panel.vote(3), lambda: panel.ready() or panel.item is None)))
    panel.close()
    rate_the_folder(window.workspace, folder)
    # Done when the fit's job has reported (a candidate, or the panel saying why not): the panel's
    # words are for people and change, the controller's state does not.
    controller = window.training_controller
    controller.candidate = None
    fitted = lambda: not background() and (controller.candidate is not None  # noqa: E731
                                           or window.training.calibration_label.text().startswith("Cannot"))
    rows.append(("fit a site calibration (the rated photos among a million scores)",
                 measure(app, controller.fit_calibration, fitted)))
    if controller.candidate is None:  # a fit that failed measures nothing
        print(window.training.calibration_label.text(), file=sys.stderr)
        window.close()
        return 1
    window.training.close()
    rows.append(("switch the model (verify, load, reopen the folder)",
                 measure(app, lambda: window.switch_model(str(model)),
                         lambda: status().startswith("Done") and shown())))
    window.close()
    print(f"{args.rows:,} archive score rows + a {args.photos}-photo folder; {os.cpu_count()} CPU cores; "
          "a 20 ms QTimer on the GUI thread\n")
    print("| action | GUI thread's longest stall (ms) | seconds to done |")
    print("|---|---:|---:|")
    for name, (worst, took) in rows:
        print(f"| {name} | {worst:.0f} | {took:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
