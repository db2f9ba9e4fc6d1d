"""Per damage kind, how a trained top reads its training ladders (from a trunk cache): the mean
score of the clean photo and of each level, and the share of the heavy levels below the fail line.
It shows which kinds the verdict hinge has not reached (a training-set check, not a held-out one).

    .venv/bin/python bench/ladder_verdicts.py CHECKPOINT CACHE_DIR [--fail-below 40]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import load_checkpoint  # noqa: E402
from training.aux_synthetic import HEAVY_FROM  # noqa: E402
from training.stage_top import Ladders, ladder_scores  # noqa: E402
from training.trunk_cache import TrunkCache  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("cache", type=Path, help="a top-cache folder (with ladders/)")
    ap.add_argument("--fail-below", type=float, default=40.0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, _ = load_checkpoint(args.checkpoint)
    model.eval()
    ladders = Ladders(TrunkCache(args.cache / "ladders"), 0, HEAVY_FROM)
    scores: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for key in ladders.keys:
            ids, _ = ladders.ladder(key)
            scores.setdefault(key[1], []).append(ladder_scores(model, ladders, ids, "cpu").numpy() * 100)
    print("| kind | heavy from level | clean | L1 | L2 | L3 | L4 | L5 | heavy failed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, rows in sorted(scores.items()):
        a, heavy_from = np.array(rows), ladders.heavy_from[kind]
        failed = f"{(a[:, heavy_from:] < args.fail_below).mean():.0%}" if heavy_from else "(none heavy)"
        print(f"| {kind} | {heavy_from or '-'} | " + " | ".join(f"{v:.1f}" for v in a.mean(0)) + f" | {failed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
