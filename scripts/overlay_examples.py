"""Overlay examples for a model's notes: photo | where the model looked | where it found damage.

For the best, middle and worst rated photos of a MOS CSV, and for pristine photos damaged inside
a region (the region outlined), writes one JPEG strip each, with the score and the MOS.
    .venv/bin/python scripts/overlay_examples.py --model M.onnx --csv VAL.csv --root DIR \
        --pristine DIR --out docs/models/NAME-VERSION/overlays
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.scoring.engine import Engine
from app.core.imageio.decode import load_rgb
from app.core.model.loader import load_model
from app.core.scoring.overlay import attention_overlay, distortion_overlay, fused_attention


def strip(engine: Engine, rgb: np.ndarray, caption: str, outline: np.ndarray | None = None) -> np.ndarray:
    result = engine.score(rgb)
    cell = result.cell  # the overview's maps: photo pixels per cell
    panels = [rgb, attention_overlay(rgb, fused_attention(result.attention, result.fusion_weights), cell),
              distortion_overlay(rgb, result.distortion, cell)]
    if outline is not None:
        contours, _ = cv2.findContours((outline > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        panels = [cv2.drawContours(p.copy(), contours, -1, (0, 255, 0), 2) for p in panels]
    row = np.concatenate(panels, axis=1)
    bar = np.full((28, row.shape[1], 3), 255, np.uint8)
    text = f"{caption}   score {result.score:.1f}   |   photo / attention (all views) / distortion map"
    cv2.putText(bar, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, row], axis=0)


def save(path: Path, rgb: np.ndarray) -> None:  # JPEG: illustrations for notes, not data
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--pristine", type=Path, nargs="*", default=[])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    engine = Engine(load_model(args.model))
    with open(args.csv, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: float(r["mos"]))
    for name, row in (("worst", rows[0]), ("middle", rows[len(rows) // 2]), ("best", rows[-1])):
        rgb = load_rgb(args.root / row["image"])
        save(args.out / f"mos_{name}.jpg", strip(engine, rgb, f"{Path(row['image']).name}  MOS {float(row['mos']):.1f}"))
    from training.data.synthetic import distort_region

    rng = np.random.default_rng(0)
    photos = sorted(p for folder in args.pristine for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg"})
    for path, kind in zip(photos[:3], ("gaussian_blur", "jpeg", "gaussian_noise")):
        rgb = load_rgb(path)[:512, :512]
        damaged, mask = distort_region(rgb, kind, 4, rng)
        save(args.out / f"local_{kind}.jpg", strip(engine, damaged, f"{path.name}: {kind} level 4 inside the green outline", mask))
    return 0


if __name__ == "__main__":
    sys.exit(main())
