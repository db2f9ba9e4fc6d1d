"""Two fine-tune recipes judged against each other on the same test photos: for every (base, site,
n) cell both benchmark runs hold, the paired 95 % bootstrap of SRCC(recipe B) - SRCC(recipe A),
read from each run's ``test_predictions.csv`` (image, mos, before, after). Both runs must have
judged the very same photos against the same MOS (the benchmark's fixed test photos), else the
cell is refused rather than compared. ``--within RUN`` pairs the two methods of each cell of one
run instead: the calibration (A) against the fine-tune (B). ``--method calibration`` compares two
runs' calibrations (e.g. a base and the same network storing more for its calibration); cells
of two versions of one base are paired.

    python -m training.sitebench.compare --a /tmp/sitebench-real --b /tmp/sitebench-heads \\
        --names "whole network" "heads + rehearsal"
    python -m training.sitebench.compare --within /tmp/sitebench-real
    python -m training.sitebench.compare --a SITE-0.0.1 --b SITE-0.0.2 --method calibration
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

import numpy as np

from app.core.stats import compare_srcc


def predictions(cell: Path, method: str = "finetune") -> dict[str, tuple[float, float, float]]:
    """image -> (mos, before, after) of one cell's fine-tune or calibration."""
    if method == "calibration":
        rows = json.loads((cell / "calibration.json").read_text()).get("test_predictions")
        if rows is None:
            raise ValueError(f"{cell}: its calibration kept no per-photo predictions (run before they were kept)")
        return {path: (mos, before, after) for path, mos, before, after in rows}
    with open(cell / "finetune" / "test_predictions.csv", newline="") as f:
        return {r["image"]: (float(r["mos"]), float(r["before"]), float(r["after"])) for r in csv.DictReader(f)}


def cells(run: Path) -> dict[tuple[str, str, int], Path]:
    """(base label, site, n) -> cell folder, for every finished cell of a benchmark run."""
    found = {}
    for done in run.glob("*/*/n*/result.json"):
        cell = done.parent
        found[(cell.parent.parent.name, cell.parent.name, json.loads(done.read_text())["n"])] = cell
    return found


def compare_cells(a: Path, b: Path, seed: int = 0, methods: tuple[str, str] = ("finetune", "finetune")) -> dict:
    pa, pb = predictions(a, methods[0]), predictions(b, methods[1])
    if sorted(pa) != sorted(pb):
        raise ValueError(f"{a} and {b} were judged on different test photos")
    images = sorted(pa)
    mos = np.array([pa[i][0] for i in images])
    if not np.allclose(mos, [pb[i][0] for i in images], atol=1e-3):
        raise ValueError(f"{a} and {b} judged their test photos against different MOS")
    before = [pa[i][1] for i in images]
    versus = compare_srcc(mos, [pa[i][2] for i in images], [pb[i][2] for i in images], seed=seed)
    a_gain = compare_srcc(mos, before, [pa[i][2] for i in images], seed=seed)
    b_gain = compare_srcc(mos, before, [pb[i][2] for i in images], seed=seed)
    return {"n": len(images), "a": a_gain.to_json(), "b": b_gain.to_json(), "b_minus_a": versus.to_json()}


def _gain(t: dict) -> str:
    ci = t.get("gain_ci")
    return f"{t['gain']:+.3f}" + (f" [{ci[0]:+.3f}, {ci[1]:+.3f}]" if ci else "")


def _unversioned(cells_of_run: dict) -> dict:
    """The cells keyed by the base's name without its version: a base and its next version
    (the same network, say, storing more for its calibration) are paired."""
    return {(re.sub(r"-\d+(\.\d+)*(\+\S*)?$", "", base), site, n): cell for (base, site, n), cell in cells_of_run.items()}


def markdown(a: Path, b: Path, names: tuple[str, str], methods: tuple[str, str] = ("finetune", "finetune")) -> str:
    ours, theirs = _unversioned(cells(a)), _unversioned(cells(b))
    lines = [f"| base | site | rated n | test photos | {names[0]}: gain [95 %] | {names[1]}: gain [95 %] | "
             f"{names[1]} − {names[0]} [95 % paired] |", "|---|---|---|---|---|---|---|"]
    for key in sorted(set(ours) & set(theirs)):
        r = compare_cells(ours[key], theirs[key], methods=methods)
        lines.append(f"| {ours[key].parent.parent.name} | {key[1]} | {key[2]} | {r['n']} | {_gain(r['a'])} | "
                     f"{_gain(r['b'])} | {_gain(r['b_minus_a'])} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    runs = ap.add_mutually_exclusive_group(required=True)
    runs.add_argument("--a", type=Path, help="one benchmark's --out (recipe A); with --b")
    runs.add_argument("--within", type=Path, help="one benchmark's --out: its calibration against its fine-tune")
    ap.add_argument("--b", type=Path, help="another benchmark's --out (recipe B)")
    ap.add_argument("--names", nargs=2, help="what to call the two recipes")
    ap.add_argument("--method", choices=("finetune", "calibration"), default="finetune",
                    help="with --a and --b: which method of the two runs to compare")
    args = ap.parse_args(argv)
    if args.within:
        print(markdown(args.within, args.within, tuple(args.names or ("calibration", "fine-tune")),
                       methods=("calibration", "finetune")), end="")
    elif args.b is None:
        ap.error("--a needs --b")
    else:
        print(markdown(args.a, args.b, tuple(args.names or ("A", "B")), methods=(args.method, args.method)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
