"""Models on the rated validation photos of every dataset, paired: SRCC / PLCC per dataset and
per subset with 95 % bootstrap intervals, and each model's difference from the first with a
paired interval (the same resampled photos for both), so a difference within noise shows as such.

The validation photos are the ``joint`` stage's own (its config's fractions and seed: LIVEC's
15 %, a tenth of BIQ2021's training split stratified by subset); BIQ2021's reserved test split is
never read. Models are scored through ONNX exactly as the app scores (Engine: overview + detail).

    .venv/bin/python bench/rated_accuracy.py --models resources/models/mobileiqa-student.onnx NEW.onnx \\
        --data biq2021 "DATA/biq2021/Train (Images and MOS).csv" DATA/biq2021 \\
        --data livec ../shared/data/livec/train.csv ../shared/data/livec [--predictions DIR]
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.scoring.engine import Engine  # noqa: E402
from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from training.command_options import CONFIGS  # noqa: E402
from training.data.rated_sets import RatedSet  # noqa: E402
from training.stage_joint import load_splits  # noqa: E402


def interval(values: list[float]) -> str:
    low, high = np.percentile(values, [2.5, 97.5])
    return f"[{low:+.3f}, {high:+.3f}]" if low < 0 else f"[{low:.3f}, {high:.3f}]"


def paired_table(name: str, mos: np.ndarray, preds: dict[str, np.ndarray], labels: dict[str, str], n_boot: int,
                 seed: int) -> list[str]:
    models = list(preds)
    rng = np.random.default_rng(seed)
    draws = {m: {"srcc": [], "plcc": []} for m in models}
    for _ in range(n_boot):
        i = rng.integers(0, len(mos), len(mos))
        for m in models:
            draws[m]["srcc"].append(spearmanr(preds[m][i], mos[i])[0])
            draws[m]["plcc"].append(pearsonr(preds[m][i], mos[i])[0])
    lines = []
    for m in models:
        srcc, plcc = spearmanr(preds[m], mos)[0], pearsonr(preds[m], mos)[0]
        row = f"| {name} | {len(mos)} | {labels[m]} | {srcc:.3f} {interval(draws[m]['srcc'])} | {plcc:.3f} {interval(draws[m]['plcc'])} |"
        if m != models[0]:
            d_srcc = np.array(draws[m]["srcc"]) - np.array(draws[models[0]]["srcc"])
            d_plcc = np.array(draws[m]["plcc"]) - np.array(draws[models[0]]["plcc"])
            base = models[0]
            row += (f" {srcc - spearmanr(preds[base], mos)[0]:+.3f} {interval(list(d_srcc))} |"
                    f" {plcc - pearsonr(preds[base], mos)[0]:+.3f} {interval(list(d_plcc))} |")
        else:
            row += " (reference) | |"
        lines.append(row)
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", type=Path, required=True, help="NAME.onnx; the first is the reference")
    ap.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"))
    ap.add_argument("--config", type=Path, default=CONFIGS / "joint_student.json", help="the split's fractions and seed")
    ap.add_argument("--predictions", type=Path, help="write each model's per-photo predictions here")
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads per model (default: all cores)")
    args = ap.parse_args()
    cfg = json.loads(args.config.read_text())
    sets = [RatedSet(n, Path(c), Path(r)) for n, c, r in args.data]
    _, val = load_splits(sets, cfg)
    engines = {str(m): Engine(load_model(m, threads=args.threads or None)) for m in args.models}
    preds = {m: [] for m in engines}
    for k, item in enumerate(val):
        rgb = load_rgb(item.image)
        for m, engine in engines.items():
            preds[m].append(engine.score(rgb).score)
        if (k + 1) % 200 == 0:
            print(f"{k + 1}/{len(val)} photos", file=sys.stderr)
    preds = {m: np.array(p) for m, p in preds.items()}
    labels = {m: f"{e.model.name} v{e.model.version}" for m, e in engines.items()}
    if args.predictions:
        args.predictions.mkdir(parents=True, exist_ok=True)
        for m, p in preds.items():
            with open(args.predictions / f"{Path(m).stem}_val_predictions.csv", "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["image", "dataset", "subset", "mos", "predicted"])
                w.writerows((it.image, it.dataset, it.subset, it.mos, f"{v:.3f}") for it, v in zip(val, p))
    print("| photos | n | model | SRCC [95 %] | PLCC [95 %] | SRCC vs first [95 % paired] | PLCC vs first [95 % paired] |")
    print("|---|---|---|---|---|---|---|")
    groups = []
    for s in sets:
        members = [i for i, it in enumerate(val) if it.dataset == s.name]
        groups.append((f"{s.name} validation", members))
        for subset in sorted({val[i].subset for i in members if val[i].subset}):
            groups.append((f"{s.name} {subset}", [i for i in members if val[i].subset == subset]))
    for name, members in groups:
        idx = np.array(members)
        mos = np.array([val[i].mos for i in members])
        for line in paired_table(name, mos, {m: p[idx] for m, p in preds.items()}, labels, args.boot, args.seed):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
