"""Two models on the same rated photos: SRCC / PLCC of each and of their difference, with paired
bootstrap 95 % intervals (the same resampled photos for both), so a difference within noise is
seen as such. Reads the per-photo prediction CSVs ``python -m training evaluate`` writes.

    .venv/bin/python bench/paired_accuracy.py A_predictions.csv B_predictions.csv [--n 2000]
"""
from __future__ import annotations

import argparse
import csv

import numpy as np
from scipy.stats import pearsonr, spearmanr


def read(path: str) -> dict[str, tuple[float, float]]:
    with open(path, newline="") as f:
        return {r["image"]: (float(r["mos"]), float(r["predicted"])) for r in csv.DictReader(f)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--n", type=int, default=2000, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    a, b = read(args.a), read(args.b)
    keys = sorted(set(a) & set(b))
    mos = np.array([a[k][0] for k in keys])
    pa, pb = np.array([a[k][1] for k in keys]), np.array([b[k][1] for k in keys])
    rng = np.random.default_rng(args.seed)
    draws = {name: [] for name in ("srcc_a", "srcc_b", "srcc_diff", "plcc_a", "plcc_b", "plcc_diff")}
    for _ in range(args.n):
        i = rng.integers(0, len(keys), len(keys))
        for metric, fn in (("srcc", spearmanr), ("plcc", pearsonr)):
            ra, rb = fn(pa[i], mos[i])[0], fn(pb[i], mos[i])[0]
            draws[f"{metric}_a"].append(ra)
            draws[f"{metric}_b"].append(rb)
            draws[f"{metric}_diff"].append(rb - ra)
    point = {"srcc_a": spearmanr(pa, mos)[0], "srcc_b": spearmanr(pb, mos)[0],
             "plcc_a": pearsonr(pa, mos)[0], "plcc_b": pearsonr(pb, mos)[0]}
    point["srcc_diff"], point["plcc_diff"] = point["srcc_b"] - point["srcc_a"], point["plcc_b"] - point["plcc_a"]
    print(f"{len(keys)} photos in both; {args.n} paired bootstrap resamples\n")
    print("| figure | value | 95 % interval |")
    print("|---|---|---|")
    for name, values in draws.items():
        lo, hi = np.percentile(values, [2.5, 97.5])
        label = name.replace("_a", " A").replace("_b", " B").replace("_diff", " B − A")
        print(f"| {label} | {point[name]:+.3f} | {lo:+.3f} … {hi:+.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
