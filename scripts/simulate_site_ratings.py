"""SIMULATED raters for a fine-tuning trial: a station's database whose photos were rated by
scripted raters, not people (clearly labelled as such everywhere it is reported).

Takes photos of a MOS CSV (use ones the shipped model never trained on, e.g. the validation
split), scores them with the app's model (so they are in the database like any inspected
photo), then lets ``--raters`` simulated raters vote through the labeling core, each answer
being the photo's MOS mapped to 1-5 plus Gaussian noise, rounded; one extra rater answers at
random, so the BT.500 screening has something to reject.
    .venv/bin/python scripts/simulate_site_ratings.py --csv VAL.csv --root DIR --n 100 --db site.db
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.scoring.photo import score_batch
from app.core.ratings.session import LabelingSession
from app.core.paths import default_model_dir
from app.core.workspace import Workspace


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--n", type=int, default=100, help="photos rated")
    ap.add_argument("--raters", type=int, default=5)
    ap.add_argument("--noise", type=float, default=0.6, help="std of a simulated rater's error, in ACR steps")
    ap.add_argument("--model", type=Path, default=default_model_dir() / "mobileiqa-student.onnx")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    rows = [rows[i] for i in sorted(rng.permutation(len(rows))[: args.n])]
    mos = {str((args.root / r["image"]).resolve()): float(r["mos"]) for r in rows}

    ws = Workspace(args.db)
    ws.load_model(args.model)
    summary = score_batch([Path(p) for p in mos], ws.engine, ws.db, ws.model_version_id)
    print(f"scored {summary.total} photos")
    photos = list(mos)
    for r in range(args.raters + 1):
        random_rater = r == args.raters
        session = LabelingSession(ws.db, f"simulated-{'random' if random_rater else r}", "simulated-trial", photos,
                                  display={"simulated": True})
        while (item := session.current()) is not None:
            if random_rater:
                vote = int(rng.integers(1, 6))
            else:
                vote = int(np.clip(np.rint(1 + 4 * mos[item.path] / 100 + rng.normal(0, args.noise)), 1, 5))
            session.vote(vote)
    ws.close()
    print(f"{args.raters} simulated raters + 1 random rater voted on {len(photos)} photos into {args.db}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
