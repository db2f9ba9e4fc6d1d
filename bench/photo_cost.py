"""What one photo costs, from a JPEG file on disk, against OpenCV's BRISQUE on the same files.

For each size (500×500, 1907×1231, 4032×3024, 8000×6000): decode + score + store per photo
(the app's ``score_photo`` + ``record_score`` into SQLite), the tiled native-resolution damage
map per photo (what the viewer computes after the score), and BRISQUE's decode + score; peak RSS
of each (one child process per method and size, so a peak is that work's own). Prints a table.

    .venv/bin/python bench/photo_cost.py [--photos 3] [--provider auto]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.peak_memory
from compare import BRISQUE_FILES, _photo, brisque_setup  # noqa: E402
from tests.peak_memory import peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((500, 500), (1231, 1907), (3024, 4032), (6000, 8000))  # (H, W)


def write_jpegs(folder: Path, h: int, w: int, n: int) -> list[Path]:
    import cv2

    base = _photo(h, w)
    files = []
    for i in range(n):  # different bytes per file: nothing is skipped or cached as already seen
        shifted = np.roll(base, 7 * i, axis=1)
        path = folder / f"{w}x{h}_{i}.jpg"
        cv2.imwrite(str(path), shifted, [cv2.IMWRITE_JPEG_QUALITY, 92])
        files.append(path)
    return files


def work_app(files: list[str], provider: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from app.core.scoring.photo import score_photo
    from app.core.scoring.engine import Engine
    from app.core.model.loader import load_model
    from app.core.scoring.native_maps import native_damage
    from app.core.paths import default_model_dir
    from app.core.store import open_database
    from app.core.store.repository import record_score, register_model

    model = load_model(default_model_dir() / "mobileiqa-student.onnx", provider=provider)
    engine = Engine(model)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "bench.db")
        mv = register_model(db, model.card, str(model.onnx_path))
        score_photo(engine, Path(files[0]))  # warm-up: the session's first run allocates
        score_ms, map_ms = [], []
        for f in files:
            start = time.perf_counter()
            outcome = score_photo(engine, Path(f))
            record_score(db, mv, outcome.record)
            score_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            native_damage(engine, outcome.rgb)
            map_ms.append((time.perf_counter() - start) * 1000)
            assert outcome.record.status == "ok", outcome.record.error
        db.close()
    return {"score_ms": statistics.median(score_ms), "map_ms": statistics.median(map_ms), "provider": model.provider}


def work_brisque(files: list[str], model_dir: str) -> dict:
    import cv2

    models = [str(Path(model_dir) / f) for f in BRISQUE_FILES]
    cv2.quality.QualityBRISQUE_compute(cv2.imread(files[0]), *models)
    times = []
    for f in files:
        start = time.perf_counter()
        cv2.quality.QualityBRISQUE_compute(cv2.imread(f), *models)
        times.append((time.perf_counter() - start) * 1000)
    return {"score_ms": statistics.median(times)}


def child(python: str, method: str, files: list[Path], extra: str) -> dict:
    cmd = [python, __file__, "--worker", method, "--extra", extra, *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", type=int, default=3, help="JPEGs per size (median), after a warm-up")
    ap.add_argument("--provider", default="auto", help="the app's execution provider: auto, cpu, cuda")
    ap.add_argument("--setup", action="store_true",
                    help="install what BRISQUE needs (opencv-data, a small venv with opencv-contrib) if missing")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--extra", help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        work = work_app if args.worker == "app" else work_brisque
        result = work(args.files, args.extra)
        result["peak_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0

    brisque = brisque_setup(install=args.setup)
    print(f"{os.cpu_count()} CPU cores; median of {args.photos} JPEGs per size after a warm-up; "
          "one child process per method and size\n")
    header = ["photo", "app: decode + score + store (ms)", "app: native damage map (ms)", "app peak RSS (MB)",
              "BRISQUE: decode + score (ms)", "BRISQUE peak RSS (MB)", "app ÷ BRISQUE (score)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for h, w in SIZES:
            files = write_jpegs(Path(tmp), h, w, args.photos + 1)
            app = child(sys.executable, "app", files, args.provider)
            bq = child(brisque[0], "brisque", files, brisque[1]) if isinstance(brisque, tuple) else {"error": brisque}
            cells = [f"{w}×{h} ({h * w / 1e6:.1f} MP)"]
            cells += ([f"{app['score_ms']:.0f}", f"{app['map_ms']:.0f}", f"{app['peak_mb']:.0f}"]
                      if "error" not in app else [app["error"][:50], "–", "–"])
            cells += [f"{bq['score_ms']:.0f}", f"{bq['peak_mb']:.0f}"] if "error" not in bq else [bq["error"][:50], "–"]
            ratio = app["score_ms"] / bq["score_ms"] if "error" not in app and "error" not in bq else float("nan")
            cells.append(f"{ratio:.2f}")
            print("| " + " | ".join(cells) + " |", flush=True)
            for f in files:
                f.unlink()
    if "provider" in app:
        print(f"\napp execution provider: {app['provider']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
