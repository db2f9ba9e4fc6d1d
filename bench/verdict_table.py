"""Verdicts as an inspector sees them: clean high-resolution photos and copies with damage a
person rejects at a glance, scored as the app scores them, judged with the default thresholds.

Heavy damage (applied at the size scored, so "15 px" means 15 px of that photo): Gaussian blur
sigma 4 px, Gaussian noise sigma 25, JPEG quality 8, 2 stops over (x4) and 2.5 stops under
(x0.18) exposure, 15 px motion blur. Each photo is scored at native size and reduced to 1024 px
(long side; the damage is applied after the reduction), then saved as a JPEG at quality 92 as a
camera or phone hands a photo over (``--saved-quality 0``: scored as arrays, as before 0.6). Prints, per model, the share passed /
reviewed / failed per kind and size, and the mean score; the photos the ``scale`` stage held out
are used unless ``--all``. ``--made N`` scores N generated 4-MP photos of bars and fences (edges
of one orientation; ``training/data/few_orientations.py``, seeds from 10,000, which no reader
was fitted on) instead of the folders.

    .venv/bin/python bench/verdict_table.py --models resources/models/mobileiqa-student.onnx \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate [--max-side 4096]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.scoring.engine import Engine  # noqa: E402
from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.verdict import Thresholds  # noqa: E402
from training.data.few_orientations import few_orientations_photo  # noqa: E402
from training.data.heavy_damage import DAMAGE, saved_as_jpeg  # noqa: E402
from training.data.hires import split_hires  # noqa: E402


def reduce(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= side:
        return rgb
    f = side / max(h, w)
    return cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", type=Path, required=True)
    ap.add_argument("--folders", nargs="+", type=Path, default=[])
    ap.add_argument("--made", type=int, default=0, help="score this many generated photos of bars and fences instead")
    ap.add_argument("--all", action="store_true", help="every photo, not only the scale stage's held-out half")
    ap.add_argument("--max-side", type=int, default=0, help="reduce 'native' photos beyond this long side (speed)")
    ap.add_argument("--saved-quality", type=int, default=92,
                    help="JPEG quality each copy is saved at before it is scored (0: scored as an array)")
    ap.add_argument("--damage", nargs="+", choices=list(DAMAGE), default=list(DAMAGE),
                    help="only these kinds (default: all; 'clean' is always included)")
    args = ap.parse_args()
    kinds = {k: DAMAGE[k] for k in DAMAGE if k == "clean" or k in args.damage}
    if args.made:
        files = [(f"bars or fence {seed}", lambda seed=seed: few_orientations_photo(seed))
                 for seed in range(10_000, 10_000 + args.made)]
    else:
        train, held_out = split_hires(args.folders)
        files = [(path.name, lambda path=path: load_rgb(path)) for path in (sorted(train + held_out) if args.all else held_out)]
    thresholds = Thresholds()
    engines = {m: Engine(load_model(m)) for m in args.models}
    # (model, kind, size) -> [scores]
    scores: dict[tuple, list[float]] = {}
    for name, load in files:
        photo = load()
        if args.max_side:
            photo = reduce(photo, args.max_side)
        for size, base in (("native", photo), ("1024", reduce(photo, 1024))):
            for kind, damage in kinds.items():
                img = np.ascontiguousarray(damage(base))
                if args.saved_quality:
                    img = saved_as_jpeg(img, args.saved_quality)
                for model, engine in engines.items():
                    scores.setdefault((model, kind, size), []).append(engine.score(img).score)
        print(f"scored {name}", file=sys.stderr)
    saved = f"saved as JPEG q{args.saved_quality}" if args.saved_quality else "scored as arrays"
    which = "generated: bars and fences" if args.made else "all" if args.all else "held out"
    print(f"{len(files)} photos ({which}, {saved}); default thresholds: pass >= "
          f"{thresholds.pass_at:g}, fail < {thresholds.fail_below:g}\n")
    for model in args.models:
        print(f"### {model}\n")
        print("| damage | size | mean score | passed | review | failed |")
        print("|---|---|---|---|---|---|")
        summary = {"clean_pass": [], "damaged_fail": []}
        for kind in kinds:
            for size in ("native", "1024"):
                values = scores[(model, kind, size)]
                verdicts = [thresholds.verdict(v) for v in values]
                share = {v: sum(x == v for x in verdicts) / len(verdicts) for v in ("pass", "review", "fail")}
                print(f"| {kind} | {size} | {np.mean(values):.1f} | {share['pass']:.0%} | {share['review']:.0%} | "
                      f"{share['fail']:.0%} |")
                if kind == "clean":
                    summary["clean_pass"] += [v == "pass" for v in verdicts]
                else:
                    summary["damaged_fail"] += [v == "fail" for v in verdicts]
        print(f"\nclean photos passed: {np.mean(summary['clean_pass']):.0%}; heavily damaged copies failed: "
              f"{np.mean(summary['damaged_fail']):.0%}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
