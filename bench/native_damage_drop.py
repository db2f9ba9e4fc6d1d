"""Does damage visible only at 100 % lower the score? Mild noise, JPEG and blur (levels 1-2)
applied at native size to held-out clean photos of at least 2000 px; per model, the mean score
drop and the share of cases where the score fell.

    .venv/bin/python bench/native_damage_drop.py MODEL.onnx [MODEL.onnx ...] \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate [--photos 6]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.scoring.engine import Engine  # noqa: E402
from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from training.data.hires import split_hires  # noqa: E402
from training.data.synthetic import distort  # noqa: E402

KINDS, LEVELS = ("gaussian_noise", "jpeg", "gaussian_blur"), (1, 2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", type=Path, nargs="+")
    ap.add_argument("--folders", type=Path, nargs="+", required=True)
    ap.add_argument("--photos", type=int, default=6)
    args = ap.parse_args()
    _, held = split_hires(args.folders)
    photos = [p for p in held if max(load_rgb(p).shape[:2]) >= 2000][: args.photos]
    engines = [Engine(load_model(m)) for m in args.models]
    drops = {e.model.version: [] for e in engines}
    for path in photos:
        img = load_rgb(path)
        clean = [e.score(img).score for e in engines]
        for kind in KINDS:
            for level in LEVELS:
                damaged = distort(img, kind, level, np.random.default_rng(1))
                for e, c in zip(engines, clean):
                    drops[e.model.version].append(c - e.score(damaged).score)
    print(f"{len(photos)} held-out photos × {len(KINDS)} kinds × {len(LEVELS)} mild levels\n")
    print("| model | mean score drop | cases where the score fell |")
    print("|---|---|---|")
    for version, values in drops.items():
        print(f"| {version} | {np.mean(values):.2f} | {np.mean(np.array(values) > 0):.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
