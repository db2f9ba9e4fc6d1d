"""The calibration as the benchmark judges it (a child process, so its time and memory are its
own): ``app.core.calibration.fit_calibration`` - what ``Workspace.fit_calibration`` runs - fitted
on the embeddings stored with the site's train + validation photos, then applied to the test
photos the fine-tune is judged on, before / after with the paired bootstrap of the SRCC gain.
The panel fits on every rated photo; here the test photos are held out so both methods are
judged on the same photos. Torch-free like the panel's fit (its peak memory is the fit's): the
fine-tune's split is reproduced from the same pieces (screened MOS, content hashes, the rule),
and the benchmark checks both methods were judged on the same test photos. Its nested cross-validation verdict (would *Apply* be offered) is
reported as the panel would show it.

    python -m training.sitebench.calibrate --db URL --config finetune.json --out calibration.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sqlalchemy import select

from app.core.calibration import fit_calibration
from app.core.ratings.session import screened_site_mos
from app.core.stats import compare_srcc
from app.core.store import open_database
from app.core.store.repository import active_version, calibration_rows
from app.core.store.schema import Image

from ..site_split import SplitRule, assign


def split_rated(db, cfg: dict) -> tuple[dict, dict[str, str], dict]:
    """(path -> screened MOS, path -> train / val / test, screening summary), split as
    ``training.finetune.split_site`` splits them (the photo's content hash, else its path)."""
    mos, info = screened_site_mos(db, int(cfg.get("min_votes", 3)))
    with db.session() as s:
        hashes = dict(s.execute(select(Image.path, Image.content_hash)).all())
    keys = {path: hashes.get(path) or path for path in mos}
    by_key = assign(list(keys.values()), SplitRule.from_config(cfg))
    return mos, {path: by_key[key] for path, key in keys.items()}, info


def calibrate_site(db_url: str, cfg: dict) -> dict:
    min_votes = int(cfg.get("min_votes", 3))
    db = open_database(db_url)
    try:
        mos_of, split, info = split_rated(db, cfg)
        rows = {p: (np.asarray(e, float), float(r), st)
                for p, e, r, st in calibration_rows(db, active_version(db), list(mos_of))}
    finally:
        db.close()
    fit_part = sorted(p for p, s in split.items() if s != "test")
    test = sorted(p for p, s in split.items() if s == "test")

    def arrays(part):
        return (np.array([rows[p][0] for p in part]), np.array([rows[p][1] for p in part]),
                np.array([mos_of[p].mos100 for p in part]), [rows[p][2] for p in part])

    emb, raw, mos, stages = arrays(fit_part)
    emb_t, raw_t, mos_t, stages_t = arrays(test)
    started = time.time()
    cal = fit_calibration(emb, raw, mos, min_votes=min_votes, stages=stages)  # as the panel fits it
    fit_seconds = time.time() - started
    after = cal.apply_many(emb_t, raw_t, stages_t)
    on_test = compare_srcc(mos_t, raw_t, after, seed=int(cfg.get("seed", 0)))
    # Per photo, as the fine-tune writes its own: the two methods can then be paired photo by photo.
    predictions = [[p, float(m), float(b), float(a)] for p, m, b, a in zip(test, mos_t, raw_t, after)]
    return {"fitted_on": cal.n, "describe": cal.describe(), "apply_offered": bool(cal.helps),
            "cv": {"before": cal.base_srcc, "after": cal.cv_srcc, "gain_ci": cal.gain_ci},
            "test": on_test.to_json(), "test_photos": test, "test_predictions": predictions, "fit_seconds": fit_seconds,
            "split": {name: sum(1 for s in split.values() if s == name) for name in ("train", "val", "test")},
            "rejected_raters": info["rejected_raters"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="the station's database URL")
    ap.add_argument("--config", type=Path, required=True, help="the fine-tune config (vote rule and split rule)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    result = calibrate_site(args.db, json.loads(args.config.read_text()))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
