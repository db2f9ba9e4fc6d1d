"""Scale consistency: the same clean photo at several sizes should get the same score.

For every photo under the given folders: the score at long side 768, 1024, 1600 and native
(downscaled in memory with INTER_AREA, never upscaled), the spread (max - min) and native - 1024,
for each model given; photos the ``scale`` training stage held out are marked (split by
``training.data.hires.split_hires``, the same seeded rule), and means are given for all photos
and for the held-out ones alone.

    .venv/bin/python bench/scale_consistency.py --models resources/models/mobileiqa-student.onnx \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate
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
from training.data.hires import split_hires  # noqa: E402

SIDES = (768, 1024, 1600)


def sizes_of(rgb: np.ndarray) -> dict[str, np.ndarray]:
    h, w = rgb.shape[:2]
    out = {}
    for side in SIDES:
        if side < max(h, w):
            f = side / max(h, w)
            out[str(side)] = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    out["native"] = rgb
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=Path, nargs="+", required=True)
    ap.add_argument("--folders", type=Path, nargs="+", required=True)
    ap.add_argument("--hires-seed", type=int, default=0, help="the scale stage's split seed")
    args = ap.parse_args()
    _, held_out = split_hires(args.folders, args.hires_seed)
    held = {p.name for p in held_out}
    engines = [Engine(load_model(m)) for m in args.models]
    names = [f"{e.model.name} {e.model.version}" for e in engines]
    if len(set(names)) < len(names):  # variants of one version (another card): told apart by their file
        names = [f"{n} ({m})" for n, m in zip(names, args.models)]
    cols = [str(s) for s in SIDES] + ["native"]
    print("| photo | size | held out | model | " + " | ".join(cols) + " | spread | native − 1024 |")
    print("|---" * (6 + len(cols)) + "|")
    stats = {n: {"all": [], "held": []} for n in names}
    for path in sorted(split_hires(args.folders, args.hires_seed)[0] + held_out, key=lambda p: p.name):
        rgb = load_rgb(path)
        versions = sizes_of(rgb)
        for name, engine in zip(names, engines):
            scores = {k: engine.score(v).score for k, v in versions.items()}
            spread = max(scores.values()) - min(scores.values())
            gap = scores["native"] - scores["1024"] if "1024" in scores else float("nan")
            stats[name]["all"].append((spread, gap))
            if path.name in held:
                stats[name]["held"].append((spread, gap))
            cells = " | ".join(f"{scores[c]:.1f}" if c in scores else "–" for c in cols)
            print(f"| {path.name[:28]} | {rgb.shape[1]}×{rgb.shape[0]} | {'yes' if path.name in held else ''} "
                  f"| {name} | {cells} | {spread:.1f} | {gap:+.1f} |")
    print()
    print("| model | photos | mean spread | max spread | mean native − 1024 | mean abs(native − 1024) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        for group in ("all", "held"):
            rows = np.array(stats[name][group])
            if not len(rows):
                continue
            gaps = rows[:, 1][~np.isnan(rows[:, 1])]
            print(f"| {name} | {len(rows)} {'held out' if group == 'held' else 'all'} | {rows[:, 0].mean():.1f} | "
                  f"{rows[:, 0].max():.1f} | {gaps.mean():+.1f} | {np.abs(gaps).mean():.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
