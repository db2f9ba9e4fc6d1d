"""How much the embedding stored with every score can tell a site's calibration beyond the score.

On a site station written by ``scripts/site_benchmark.py`` (its ``home`` folder and fine-tune
config), a ridge from the embedding to what the linear map of the score leaves over is fitted
three ways and judged on the site's test photos, paired with the score alone (95 % bootstrap):
- as the panel fits it: on the rated train + validation photos only;
- cross-fitted: 10 folds over every rated photo, each test photo predicted by a fit without its
  fold (about 2.6 times the panel's photos at n = 150);
- in-sample on the test photos themselves: an upper bound that over-fits, never a usable figure.
If even the cross-fit gains nothing at any strength, the embedding holds nothing the site's raters
see that the score does not, and more rated photos will not change that. ``--inputs opinions``
fits on the per-view opinions stored with every score instead (the views the score fuses, each
with its own weight the fusion did not give it), ``both`` on the two side by side.

    .venv/bin/python bench/calibration_headroom.py --home SITEBENCH/BASE/SITE/n150/home \\
        --config SITEBENCH/finetune-config.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.stats import compare_srcc  # noqa: E402
from app.core.store import open_database  # noqa: E402
from sqlalchemy import select  # noqa: E402

from app.core.store.repository import active_version, calibration_rows  # noqa: E402
from app.core.store.schema import Image, Score  # noqa: E402
from training.sitebench.calibrate import split_rated  # noqa: E402

LAMBDAS = (1.0, 10.0, 100.0, 1000.0)
FOLDS = 10


def ridge_on_residual(scores, embeddings, mos, lam: float):
    """A linear map of the score plus a ridge (strength ``lam``, standardised embedding) on its residual."""
    b, a = np.polyfit(scores, mos, 1)
    residual = mos - (a + b * scores)
    mean, sd = embeddings.mean(0), embeddings.std(0) + 1e-9
    z = (embeddings - mean) / sd
    w = np.linalg.solve(z.T @ z + lam * np.eye(z.shape[1]), z.T @ (residual - residual.mean()))
    return lambda s, e: a + b * s + ((e - mean) / sd) @ w + residual.mean()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True, help="the site station's MOBILEIQA_HOME (inspector.db)")
    ap.add_argument("--config", type=Path, required=True, help="the fine-tune config the benchmark used")
    ap.add_argument("--inputs", choices=("embedding", "opinions", "both"), default="embedding",
                    help="what the ridge reads beside the score")
    args = ap.parse_args()
    db = open_database(f"sqlite:///{args.home / 'inspector.db'}")
    try:
        mos_of, split, _ = split_rated(db, json.loads(args.config.read_text()))
        version = active_version(db)
        rows = {p: (np.asarray(e, float), float(r)) for p, e, r, _ in calibration_rows(db, version, list(mos_of))}
        if args.inputs != "embedding":
            with db.session() as s:
                opinions = dict(s.execute(select(Image.path, Score.opinions).join(Score).where(
                    Score.model_version_id == version, Score.status == "ok")).all())
            rows = {p: (np.asarray(opinions[p], float) if args.inputs == "opinions"
                        else np.concatenate([e, np.asarray(opinions[p], float)]), r)
                    for p, (e, r) in rows.items() if opinions.get(p)}
    finally:
        db.close()
    paths = sorted(rows)
    emb = np.array([rows[p][0] for p in paths])
    score = np.array([rows[p][1] for p in paths])
    mos = np.array([mos_of[p].mos100 for p in paths])
    test = np.flatnonzero([split[p] == "test" for p in paths])
    rated = np.flatnonzero([split[p] != "test" for p in paths])
    folds = np.random.default_rng(0).permutation(len(paths)) % FOLDS
    print(f"{len(paths)} rated photos: {len(rated)} for the panel's fit, {len(test)} test; {args.inputs}: "
          f"{emb.shape[1]} values\n")
    print("| ridge λ | fitted on | test SRCC before → after | gain [95 % paired] |")
    print("|---|---|---|---|")
    for lam in LAMBDAS:
        cross = np.empty(len(paths))
        for f in range(FOLDS):
            out, into = np.flatnonzero(folds != f), np.flatnonzero(folds == f)
            cross[into] = ridge_on_residual(score[out], emb[out], mos[out], lam)(score[into], emb[into])
        ways = {
            f"the panel's {len(rated)} rated photos": ridge_on_residual(score[rated], emb[rated], mos[rated], lam)(score[test], emb[test]),
            f"cross-fit, {FOLDS} folds of all {len(paths)}": cross[test],
            "the test photos themselves (bound)": ridge_on_residual(score[test], emb[test], mos[test], lam)(score[test], emb[test]),
        }
        for way, predicted in ways.items():
            c = compare_srcc(mos[test], score[test], predicted, seed=0).to_json()
            print(f"| {lam:g} | {way} | {c['before']:.3f} → {c['after']:.3f} | "
                  f"{c['gain']:+.3f} [{c['gain_ci'][0]:+.3f}, {c['gain_ci'][1]:+.3f}] |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
