"""How the overview's and the detail's opinions could combine, judged by what an inspector sees.

Each copy of each photo is scored once (the overview's opinion, the detail tiles' mean, the readers'
caps); every rule is then applied to the same numbers, through the engine's own ``Reading.fuse``:

- clean photos at long side 768, 1024, 1600 px and native (the scale spread: max - min per photo,
  and the share passed at native and 1024 px, as ``verdict_table.py`` counts them);
- heavy damage at native and 1024 px (``training.data.heavy_damage``: the share failed);
- mild damage at native (``training.data.synthetic`` noise, JPEG and blur, levels 1-3): how far
  the score falls below the clean native copy's, and how often it falls at all (mild damage must
  still rank below clean).

Every copy is saved as JPEG q92 first, as a camera hands a photo over. The photos are split as the
``scale`` stage split them: a rule is chosen on the training half (and Kodak's, ``--kodak``), the
held-out half is reported beside it.

    .venv/bin/python bench/fusion_rules.py --model resources/models/mobileiqa-student.onnx \\
        --folders ../shared/data/pristine/lomiri ../shared/data/pristine/mate \\
        --kodak ../shared/data/pristine/kodak --rows RUN/fusion_rows.jsonl
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from app.core.imageio.decode import load_rgb  # noqa: E402
from app.core.model.loader import load_model  # noqa: E402
from app.core.scoring.engine import Engine  # noqa: E402
from app.core.scoring.reading import Reading  # noqa: E402
from app.core.verdict import Thresholds  # noqa: E402
from training.data.heavy_damage import DAMAGE, saved_as_jpeg  # noqa: E402
from training.data.hires import split_hires  # noqa: E402
from training.data.synthetic import distort  # noqa: E402
from verdict_table import reduce  # noqa: E402

SIDES = (768, 1024, 1600)
HEAVY = [k for k in DAMAGE if k != "clean"]
MILD = [(kind, level) for kind in ("gaussian_noise", "jpeg", "gaussian_blur") for level in (1, 2, 3)]

# The rules compared: the card field values each stands for.
RULES = {"worse 0.75 (v0.7.1)": {"fusion": "worse", "worse_weight": 0.75}} | {
    f"cap, margin {m}": {"fusion": "cap", "detail_margin": float(m)} for m in (0, 5, 10, 15, 20)} | {
    "overview alone": {"fusion": "mean", "detail_weight": 0.0}}


def copies(photo: np.ndarray):
    """(kind, size, image) of every copy a photo is scored as."""
    for side in SIDES:
        if side < max(photo.shape[:2]):
            yield "clean", str(side), reduce(photo, side)
    for size, base in (("native", photo), ("1024", reduce(photo, 1024))):
        for kind, damage in DAMAGE.items():
            if size == "1024" and (kind == "clean" or base is photo):
                continue  # clean at 1024 is a size above; a photo no larger than 1024 px has only native
            yield kind, size, damage(base)
    for kind, level in MILD:
        yield f"mild {kind} {level}", "native", distort(photo, kind, level, np.random.default_rng(1))


def read_copy(engine: Engine, img: np.ndarray) -> dict:
    result = engine.score(img)
    caps = [opinion.score for opinion in (result.exposure, result.sharpness) if opinion is not None]
    return {"overview": result.overview_score, "detail": result.detail_score, "cap": min(caps) if caps else None,
            "program": result.raw_score}


def score(row: dict, reading: Reading) -> float:
    value = reading.fuse(row["overview"], row["detail"])
    return min(value, row["cap"]) if row["cap"] is not None else value


def measures(rows: list[dict], reading: Reading, thresholds: Thresholds) -> dict:
    scores = {(r["photo"], r["kind"], r["size"]): score(r, reading) for r in rows}
    clean = [v for (_, kind, size), v in scores.items() if kind == "clean" and size in ("native", "1024")]
    heavy = [v for (_, kind, _), v in scores.items() if kind in HEAVY]
    spreads = []
    for photo in {p for p, _, _ in scores}:
        values = [v for (p, kind, _), v in scores.items() if p == photo and kind == "clean"]
        if len(values) > 1:
            spreads.append(max(values) - min(values))
    out = {"clean passed": np.mean([thresholds.verdict(v) == "pass" for v in clean]),
           "clean failed": np.mean([thresholds.verdict(v) == "fail" for v in clean]),
           "heavy failed": np.mean([thresholds.verdict(v) == "fail" for v in heavy]),
           "spread": np.mean(spreads) if spreads else float("nan")}
    for level in (1, 2, 3):
        drops = [scores[(p, "clean", "native")] - v for (p, kind, _), v in scores.items()
                 if kind.startswith("mild") and kind.endswith(f" {level}")]
        out[f"mild {level}"] = (float(np.mean(drops)), float(np.mean(np.array(drops) > 0))) if drops else None
    return out


def table(rows: list[dict], base: Reading, thresholds: Thresholds) -> str:
    lines = ["| rule | clean passed / failed | heavy damage failed | scale spread (mean) | mild damage at native, "
             "levels 1 / 2 / 3: mean drop (share fell) |", "|---|---|---|---|---|"]
    for name, fields in RULES.items():
        m = measures(rows, dataclasses.replace(base, **fields), thresholds)
        mild = " / ".join(f"{m[k][0]:.1f} ({m[k][1]:.0%})" if m[k] else "–" for k in ("mild 1", "mild 2", "mild 3"))
        lines.append(f"| {name} | {m['clean passed']:.0%} / {m['clean failed']:.0%} | {m['heavy failed']:.0%} | "
                     f"{m['spread']:.1f} | {mild} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--folders", nargs="+", type=Path, required=True, help="high-resolution photos (split in halves)")
    ap.add_argument("--kodak", type=Path, help="further photos to choose on (Kodak's), read whole")
    ap.add_argument("--rows", type=Path, help="keep the per-copy readings here (JSON lines); a photo already in it "
                                              "is not scored again")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    engine = Engine(load_model(args.model, threads=args.threads or None))
    rows = [json.loads(line) for line in args.rows.read_text().splitlines()] if args.rows and args.rows.exists() else []
    done = {r["photo"] for r in rows}
    train, held_out = split_hires(args.folders)
    kodak = sorted(p for p in args.kodak.iterdir() if p.suffix.lower() in (".png", ".jpg")) if args.kodak else []
    sink = args.rows.open("a") if args.rows else None
    for half, paths in (("held out", held_out), ("training", train), ("kodak", kodak)):
        for path in paths:
            if path.name in done:
                continue
            photo = load_rgb(path)
            for kind, size, img in copies(photo):
                row = {"photo": path.name, "half": half, "kind": kind, "size": size}
                row |= read_copy(engine, saved_as_jpeg(np.ascontiguousarray(img), 92))
                rows.append(row)
                if sink:
                    sink.write(json.dumps(row) + "\n")
                    sink.flush()
            print(f"read {path.name}", file=sys.stderr)
    # The card's own rule must give the program's score, or every other row compares against
    # something the program never does.
    off = max((abs(score(r, engine.reading) - r["program"]) for r in rows), default=0.0)
    print(f"{engine.model.name} {engine.model.version}; the card's rule against the program's own score: largest "
          f"difference {off:.2g} over {len(rows)} copies\n")
    thresholds = Thresholds()
    for name, halves in (("chosen on: the training half and Kodak", ("training", "kodak")),
                         ("held out", ("held out",))):
        chosen = [r for r in rows if r["half"] in halves]
        print(f"**{name}** ({len({r['photo'] for r in chosen})} photos; pass >= {thresholds.pass_at:g}, "
              f"fail < {thresholds.fail_below:g})\n\n{table(chosen, engine.reading, thresholds)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
