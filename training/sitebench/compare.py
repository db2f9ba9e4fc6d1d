"""Two fine-tune recipes judged against each other on the same test photos: for every (base, site,
n) cell both benchmark runs hold, the paired 95 % bootstrap of SRCC(recipe B) - SRCC(recipe A),
read from each run's ``test_predictions.csv`` (image, mos, before, after). Both runs must have
judged the very same photos against the same MOS (the benchmark's fixed test photos), else the
cell is refused rather than compared.

    python -m training.sitebench.compare --a /tmp/sitebench-real --b /tmp/sitebench-heads \\
        --names "whole network" "heads + rehearsal"
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from app.core.stats import compare_srcc


def predictions(cell: Path) -> dict[str, tuple[float, float, float]]:
    """image -> (mos, before, after) of one cell's fine-tune."""
    with open(cell / "finetune" / "test_predictions.csv", newline="") as f:
        return {r["image"]: (float(r["mos"]), float(r["before"]), float(r["after"])) for r in csv.DictReader(f)}


def cells(run: Path) -> dict[tuple[str, str, int], Path]:
    """(base label, site, n) -> cell folder, for every finished cell of a benchmark run."""
    found = {}
    for done in run.glob("*/*/n*/result.json"):
        cell = done.parent
        found[(cell.parent.parent.name, cell.parent.name, json.loads(done.read_text())["n"])] = cell
    return found


def compare_cells(a: Path, b: Path, seed: int = 0) -> dict:
    pa, pb = predictions(a), predictions(b)
    if sorted(pa) != sorted(pb):
        raise ValueError(f"{a} and {b} were judged on different test photos")
    images = sorted(pa)
    mos = np.array([pa[i][0] for i in images])
    if not np.allclose(mos, [pb[i][0] for i in images]):
        raise ValueError(f"{a} and {b} judged their test photos against different MOS")
    before = [pa[i][1] for i in images]
    versus = compare_srcc(mos, [pa[i][2] for i in images], [pb[i][2] for i in images], seed=seed)
    a_gain = compare_srcc(mos, before, [pa[i][2] for i in images], seed=seed)
    b_gain = compare_srcc(mos, before, [pb[i][2] for i in images], seed=seed)
    return {"n": len(images), "a": a_gain.to_json(), "b": b_gain.to_json(), "b_minus_a": versus.to_json()}


def _gain(t: dict) -> str:
    ci = t.get("gain_ci")
    return f"{t['gain']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")


def markdown(a: Path, b: Path, names: tuple[str, str]) -> str:
    ours, theirs = cells(a), cells(b)
    lines = [f"| base | site | rated n | test photos | {names[0]}: gain [95 %] | {names[1]}: gain [95 %] | "
             f"{names[1]} − {names[0]} [95 % paired] |", "|---|---|---|---|---|---|---|"]
    for key in sorted(set(ours) & set(theirs)):
        r = compare_cells(ours[key], theirs[key])
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {r['n']} | {_gain(r['a'])} | {_gain(r['b'])} | "
                     f"{_gain(r['b_minus_a'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", type=Path, required=True, help="one benchmark's --out (recipe A)")
    ap.add_argument("--b", type=Path, required=True, help="another benchmark's --out (recipe B)")
    ap.add_argument("--names", nargs=2, default=("A", "B"), help="what to call the two recipes")
    args = ap.parse_args(argv)
    print(markdown(args.a, args.b, tuple(args.names)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
