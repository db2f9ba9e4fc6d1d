"""How the detail reader's tiles could be summed up, judged by the verdicts an inspector sees.

The detail reader scores up to nine native tiles of a large photo and the card's reading takes
their mean; the worse of the overview's and the detail's opinion then weighs most. Blur and
motion at native size are the heavy damage failed least (a blurred photo's flat tiles, sky or
wall, score as they did clean), so other summaries are worth trying: the median, the mean of
the worst or best tiles, a mean weighted by how much structure the tile's region shows in the
overview (blur at native barely changes the overview, bokeh is smooth in both). A last table
asks whether a hand-made measure of the sharpest tile's fine detail tells clean from blurred
where the tiles' scores do not. Each copy is
scored once (overview, every tile, the readers' caps; clean and heavily damaged, native and
1024 px, saved as JPEG q92 as in ``verdict_table.py``); every rule is then applied to the same
numbers. Photos of 512 px or less have no detail: no rule changes their score.

    .venv/bin/python bench/detail_rules.py --model resources/models/mobileiqa-student.onnx \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate [--all] [--rows rows.json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.scoring.engine import Engine  # noqa: E402
from app.core.scoring.reading import Reading, detail_boxes, overview  # noqa: E402
from app.core.verdict import Thresholds  # noqa: E402
from training.data.heavy_damage import DAMAGE, saved_as_jpeg  # noqa: E402
from training.data.hires import split_hires  # noqa: E402
from verdict_table import reduce  # noqa: E402

KINDS = ("clean", "blur sigma 4", "motion 15 px", "noise sigma 25", "JPEG q8", "2 stops over")


def gradient(view: np.ndarray) -> np.ndarray:
    """Gradient magnitude of the overview's luma (once per copy; each tile averages its region)."""
    luma = view.astype(np.float32).mean(-1)
    return np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))


def structure(grad: np.ndarray, box: tuple[int, int, int, int], factor: float) -> float:
    """Mean of the overview's gradient magnitude over a native tile's region."""
    t, left, h, w = (int(round(v * factor)) for v in box)
    return float(grad[t:t + max(1, h), left:left + max(1, w)].mean())


def sharpness(tile: np.ndarray) -> float:
    """Fine detail for the tile's contrast: mean |Laplacian| of its luma over (its std + 1). Blur
    removes the first and barely changes the second; a flat or out-of-focus tile has little of
    either, so a photo's sharpest tile says whether anything in it is sharp."""
    luma = cv2.cvtColor(np.ascontiguousarray(tile), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.abs(cv2.Laplacian(luma, cv2.CV_32F)).mean() / (luma.std() + 1.0))


def read_copy(engine: Engine, img: np.ndarray) -> dict:
    result = engine.score(img)
    # The readers' caps (exposure; sharpness, v0.7 on) act on the fused score whatever the rule.
    caps = [opinion.score for opinion in (result.exposure, result.sharpness) if opinion is not None]
    row = {"overview": result.overview_score, "tiles": [], "structure": [], "sharpness": [],
           "cap": min(caps) if caps else None, "program": result.raw_score}
    if result.detail_score is not None:
        view = engine.reading.detail_view(img)
        ov = overview(img, engine.reading.overview_side)
        grad, factor = gradient(ov), ov.shape[0] / view.shape[0]
        for t, left, th, tw in detail_boxes(*view.shape[:2], engine.reading.detail_tile, engine.reading.detail_tiles):
            tile = view[t:t + th, left:left + tw]
            row["tiles"].append(float(engine.run(tile, "detail")["score"][0]))
            row["sharpness"].append(sharpness(tile))
            row["structure"].append(structure(grad, (t, left, th, tw), factor))
    return row


RULES = {
    "mean (the card's)": lambda t, g: float(np.mean(t)),
    "median": lambda t, g: float(np.median(t)),
    "worst 3": lambda t, g: float(np.sort(t)[:3].mean()),
    "best 3": lambda t, g: float(np.sort(t)[-3:].mean()),
    "weighted by structure": lambda t, g: float(np.average(t, weights=np.asarray(g) + 1e-6)),
}


def fused(row: dict, rule, reading: Reading) -> float:
    """The score with the tiles summed up by ``rule``, the readers combined by the card's rule."""
    detail = rule(row["tiles"], row["structure"]) if row["tiles"] else None
    score = reading.fuse(row["overview"], detail)
    return min(score, row["cap"]) if row["cap"] is not None else score


def table(rows: list[dict], reading: Reading, thresholds: Thresholds) -> str:
    damaged = [k for k in KINDS if k != "clean"]
    lines = ["| rule | clean passed | " + " | ".join(f"{k} failed" for k in damaged) + " | heavy damage failed |",
             "|---" * (len(damaged) + 3) + "|"]
    for name, rule in RULES.items():
        verdicts: dict[str, list[str]] = {}
        for row in rows:
            verdicts.setdefault(row["kind"], []).append(thresholds.verdict(fused(row, rule, reading)))
        share = {k: np.mean([v == ("pass" if k == "clean" else "fail") for v in verdicts.get(k, [])]) for k in KINDS}
        heavy = np.mean([v == "fail" for k in damaged for v in verdicts.get(k, [])])
        lines.append(f"| {name} | " + " | ".join(f"{share[k]:.0%}" for k in KINDS) + f" | {heavy:.0%} |")
    return "\n".join(lines)


def auroc(higher: list[float], lower: list[float]) -> float:
    """How often a value of ``higher`` exceeds one of ``lower`` (ties count half)."""
    a, b = np.asarray(higher)[:, None], np.asarray(lower)[None, :]
    return float(np.mean((a > b) + 0.5 * (a == b))) if a.size and b.size else float("nan")


def sharpness_table(rows: list[dict]) -> str:
    """Whether the sharpest tile's sharpness tells clean copies from blurred ones (AUROC), and how
    many of each fall under a few cut-offs: a lead for a reader the tiles' scores cannot give."""
    sharpest = {k: [max(r["sharpness"]) for r in rows if r["kind"] == k and r.get("sharpness")] for k in KINDS}
    cuts = (0.06, 0.08, 0.1, 0.12)
    lines = ["| damage | AUROC clean above it | " + " | ".join(f"under {c:g}" for c in cuts) + " |",
             "|---" * (len(cuts) + 2) + "|"]
    for kind in KINDS:
        shares = " | ".join(f"{np.mean([v < c for v in sharpest[kind]]):.0%}" if sharpest[kind] else "–" for c in cuts)
        score = "–" if kind == "clean" else f"{auroc(sharpest['clean'], sharpest[kind]):.2f}"
        lines.append(f"| {kind} | {score} | {shares} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--folders", nargs="+", type=Path, required=True)
    ap.add_argument("--all", action="store_true", help="every photo, not only the scale stage's held-out half")
    ap.add_argument("--rows", type=Path, help="keep the per-copy readings here; an existing file is read, not rescored")
    ap.add_argument("--worse-weight", type=float, nargs="+", help="combine the readers by the worse weighing this (default: the card's rule)")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    model = load_model(args.model, threads=args.threads or None)
    engine = Engine(model)
    if args.rows and args.rows.exists():
        rows = json.loads(args.rows.read_text())
    else:
        train, held_out = split_hires(args.folders)
        rows = []
        for path in sorted(train + held_out) if args.all else held_out:
            photo = load_rgb(path)
            for size, base in (("native", photo), ("1024", reduce(photo, 1024))):
                if size == "1024" and base is photo:
                    continue  # no larger than 1024 px: the native row is that size
                for kind in KINDS:
                    img = saved_as_jpeg(np.ascontiguousarray(DAMAGE[kind](base)), 92)
                    rows.append({"photo": path.name, "size": size, "kind": kind} | read_copy(engine, img))
            print(f"read {path.name}", file=sys.stderr)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    thresholds = Thresholds()
    photos = len({r["photo"] for r in rows})
    # The card's own summary must give the program's score, or every other row compares against
    # something the program never does.
    checked = [abs(fused(r, RULES["mean (the card's)"], engine.reading) - r["program"])
               for r in rows if "program" in r]
    if checked:
        print(f"the card's summary against the program's own score: largest difference {max(checked):.2g} "
              f"over {len(checked)} copies")
    readings = ([dataclasses.replace(engine.reading, fusion="worse", worse_weight=w) for w in args.worse_weight]
                if args.worse_weight else [engine.reading])
    for reading in readings:
        print(f"\n{photos} photos ({'all' if args.all else 'held out'}), native and 1024 px, saved as JPEG q92; "
              f"{reading.to_card()['meaning'].split(':')[0]}; pass >= {thresholds.pass_at:g}, fail < {thresholds.fail_below:g}\n")
        for size in ("native", "1024"):
            print(f"**{size}**\n\n{table([r for r in rows if r['size'] == size], reading, thresholds)}\n")
    for size in ("native", "1024"):
        print(f"**the sharpest tile's sharpness (mean |Laplacian| / (std + 1)), {size}**\n\n"
              f"{sharpness_table([r for r in rows if r['size'] == size])}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
