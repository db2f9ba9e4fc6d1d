"""Where an exposure reader's cap should start to fall: one model with a reader, scored once per
photo, its cap applied at several onsets. Prints, per onset, the paired SRCC difference from the
same model without its reader on the rated validation photos as rated (BIQ2021 by subset, LIVEC),
the share of those photos capped, and the verdicts of heavily damaged and clean copies of the
high-resolution photos (the scale stage's held-out half; ``--all`` for every photo).

The photos are scored once: the reader's probability and the score it caps are kept per photo,
so each onset costs nothing more (``app.core.scoring.caps.probability_cap``, what the engine
applies). BIQ2021's reserved test split is never read.

    .venv/bin/python bench/exposure_onsets.py --model resources/models/mobileiqa-student.onnx \\
        --data biq2021 "DATA/biq2021/Train (Images and MOS).csv" DATA/biq2021 \\
        --data livec ../shared/data/livec/train.csv ../shared/data/livec \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate --onsets 0 0.2 0.5
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.scoring.engine import Engine  # noqa: E402
from app.core.scoring.caps import probability_cap  # noqa: E402
from app.core.stats import compare_srcc  # noqa: E402
from app.core.verdict import Thresholds  # noqa: E402
from training.command_options import CONFIGS  # noqa: E402
from training.data.heavy_damage import DAMAGE, saved_as_jpeg  # noqa: E402
from training.data.hires import split_hires  # noqa: E402
from training.data.rated_sets import RatedSet  # noqa: E402
from training.stage_joint import load_splits  # noqa: E402
from verdict_table import reduce  # noqa: E402


def uncapped_and_p(engine: Engine, rgb: np.ndarray) -> tuple[float, float]:
    """The score the reader caps (the readers' fused score) and the reader's probability."""
    result = engine.score(rgb)
    return engine.reading.fuse(result.overview_score, result.detail_score), result.exposure.probability


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True, help="NAME.onnx whose card has an exposure reader")
    ap.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"))
    ap.add_argument("--folders", nargs="+", type=Path, required=True, help="high-resolution photos")
    ap.add_argument("--all", action="store_true", help="every photo of --folders, not only the held-out half")
    ap.add_argument("--onsets", nargs="+", type=float, default=[0.0, 0.2, 0.3, 0.4, 0.5])
    ap.add_argument("--config", type=Path, default=CONFIGS / "joint_student.json", help="the split's fractions and seed")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    engine = Engine(load_model(args.model, threads=args.threads or None))
    if engine.exposure is None:
        raise SystemExit(f"{args.model}: its card has no exposure reader")
    rated = []  # (dataset, subset, mos, uncapped, p)
    _, val = load_splits([RatedSet(n, Path(c), Path(r)) for n, c, r in args.data], json.loads(args.config.read_text()))
    for k, item in enumerate(val):
        rated.append((item.dataset, item.subset, item.mos, *uncapped_and_p(engine, load_rgb(item.image))))
        if k % 200 == 0:
            print(f"rated photos: {k}/{len(val)}", file=sys.stderr)
    train, held_out = split_hires(args.folders)
    copies = []  # (kind, uncapped, p)
    for path in sorted(train + held_out) if args.all else held_out:
        photo = load_rgb(path)
        for base in (photo, reduce(photo, 1024)):
            for kind, damage in DAMAGE.items():
                copies.append((kind, *uncapped_and_p(engine, saved_as_jpeg(np.ascontiguousarray(damage(base)), 92))))
        print(f"scored {path.name}", file=sys.stderr)

    thresholds = Thresholds()
    groups = [(f"{d} {s}" if s else d, [r for r in rated if r[0] == d and (s is None or r[1] == s)])
              for d in dict.fromkeys(r[0] for r in rated) for s in [None, *sorted({r[1] for r in rated if r[0] == d and r[1]})]]
    print(f"{args.model} ({engine.model.card['version']}); {len(copies) // len(DAMAGE)} photos x sizes with "
          f"{len(DAMAGE) - 1} kinds of heavy damage, saved as JPEG q92; thresholds {thresholds.pass_at:g} / "
          f"{thresholds.fail_below:g}\n")
    print("| onset | " + " | ".join(f"{name} (n {len(rows)}): paired SRCC, capped" for name, rows in groups)
          + " | heavy damage failed | 2 stops over failed | 2.5 stops under failed | clean passed |")
    print("|---" * (len(groups) + 5) + "|")
    for onset in args.onsets:
        cells = []
        for _, rows in groups:
            before = np.array([r[3] for r in rows])
            after = np.minimum(before, probability_cap(np.array([r[4] for r in rows]), onset))
            c = compare_srcc([r[2] for r in rows], before, after)
            ci = f"[{c.gain_ci[0]:+.3f}, {c.gain_ci[1]:+.3f}]" if c.gain_ci else "[no interval]"
            cells.append(f"{c.gain:+.3f} {ci}, {np.mean(after < before):.1%}")
        score = {kind: np.array([min(u, float(probability_cap(p, onset))) for k, u, p in copies if k == kind]) for kind in DAMAGE}
        heavy = np.concatenate([v for kind, v in score.items() if kind != "clean"])
        failed = lambda v: f"{np.mean(v < thresholds.fail_below):.0%}"  # noqa: E731
        cells += [failed(heavy), failed(score["2 stops over"]), failed(score["2.5 stops under"]),
                  f"{np.mean(score['clean'] >= thresholds.pass_at):.0%}"]
        print(f"| {onset:g} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
