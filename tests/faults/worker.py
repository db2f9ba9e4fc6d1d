"""The in-process half of the suite: a child process that puts files through load_rgb and
score_photo and answers one JSON line per job.

It runs as its own process so that a hang, a segfault in a codec or an out-of-memory kill is
seen by the parent (``WorkerClient``) and counted against the case in flight, instead of ending
the suite. Protocol: one JSON job per line on stdin, one JSON answer per line on the original
stdout; everything the libraries print goes to stderr (a file the parent reads on a crash).

    python -m tests.faults.worker CARD_PATH   (cwd: the repository root)
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback
from pathlib import Path

from tests.peak_memory import peak_rss_mb


def _exc_text(where: str, exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] or [None]
    at = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last[0] else ""
    text = " ".join(str(exc).split())[:200]  # one line: some decoders end their messages with newlines
    return f"{where}: {type(exc).__name__}: {text}{at}"


def evaluate(engine, path: Path) -> dict:
    """What load_rgb and score_photo make of one file; never raises (that is the point)."""
    import numpy as np

    from app.core.scoring.photo import score_photo
    from app.core.imageio.decode import ImageLoadError, load_rgb
    from app.core.verdict import Thresholds

    out: dict = {}
    try:
        arr = load_rgb(path)
        out["load"] = "ok"
        if not (isinstance(arr, np.ndarray) and arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3
                and min(arr.shape[:2]) > 0):
            out["bad_array"] = f"{type(arr).__name__} {getattr(arr, 'dtype', '')} {getattr(arr, 'shape', '')}"
        else:
            out["shape"] = list(arr.shape)
            out["mean"] = float(arr.mean())
            out["std"] = float(arr.std())
            grey = arr.mean(axis=2)
            out["black"] = float((grey <= 1).mean())  # share of pixels crushed to black / clipped white
            out["white"] = float((grey >= 254).mean())
        del arr
    except ImageLoadError as exc:
        out["load"] = exc.kind
    except BaseException as exc:  # noqa: BLE001 - anything else escaping is the fault we count
        out["load"] = "exception"
        out["exc"] = _exc_text("load_rgb", exc)
    try:
        record = score_photo(engine, path).record
        out["status"] = record.status
        out["error"] = (record.error or "")[:300]
        out["score"] = record.score
        if record.score is not None:
            finite = isinstance(record.score, float | int) and math.isfinite(record.score)
            # The verdict record_score would store under the default thresholds.
            out["verdict"] = Thresholds().verdict(record.score) if finite else "nan"
    except BaseException as exc:  # noqa: BLE001
        out["status"] = "exception"
        out.setdefault("exc", _exc_text("score_photo", exc))
    out["rss_mb"] = peak_rss_mb()
    return out


def main(argv: list[str]) -> int:
    card = argv[0]
    # The protocol keeps the real stdout; C libraries printing to fd 1 land in stderr instead.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    from app.core.scoring.engine import Engine
    from app.core.model.loader import load_model

    from . import fuzz

    engine = Engine(load_model(card, threads=1))
    scratch = Path(argv[1]) if len(argv) > 1 else Path(os.environ.get("TMPDIR", "/tmp"))
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = json.loads(line)
        if job.get("op") == "quit":
            break
        if job["op"] == "file":
            path = Path(os.fsdecode(bytes.fromhex(job["path_hex"])))
        else:  # "fuzz": the mutant is made here from its numbers, so the pipe carries no bytes
            path = scratch / f"mutant{fuzz.FORMATS[job['fmt']]}"
            path.write_bytes(fuzz.mutant(job["fmt"], job["index"], job.get("seed", 0)))
        answer = evaluate(engine, path)
        answer["id"] = job.get("id")
        proto.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
