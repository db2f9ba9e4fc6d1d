"""``--self-test``: prove an installation works end to end without touching the user's data.

Loads the model (sha256 and signature checked), scores the bundled sample photo, stores the
result in a throwaway database, reads it back, and prints what happened.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .core.model.contract import ModelError
from .core.model.loader import load_model
from .core.paths import resources_dir
from .core.scoring.engine import Engine
from .core.scoring.photo import score_batch
from .core.store import open_database
from .core.store.repository import register_model, score_rows


def self_test(model_path: Path) -> int:
    try:
        model = load_model(model_path)
    except ModelError as exc:
        print(f"self-test FAILED: {exc}", file=sys.stderr)
        return 1
    samples = sorted((resources_dir() / "samples").glob("*.png"))
    if not samples:
        print(f"self-test FAILED: no sample photo in {resources_dir() / 'samples'}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Path(tmp) / "selftest.db")
        try:
            mv = register_model(db, model.card, str(model.onnx_path))
            summary = score_batch(samples, Engine(model), db, mv)
            rows = score_rows(db, mv)
        finally:
            db.close()
    for row in rows:
        print(f"{Path(row['path']).name}: {row['status']} score {row['score']} verdict {row['verdict']}")
    ok = summary.scored == len(samples) and all(r["status"] == "ok" for r in rows)
    print(f"self-test {'passed' if ok else 'FAILED'}: model {model.name} v{model.version} on {model.provider}",
          file=sys.stderr)
    return 0 if ok else 1
