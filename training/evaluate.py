"""Evaluate an exported model (ONNX, as the app runs it) against a MOS CSV, on full photos."""
from __future__ import annotations

import csv
from pathlib import Path

from app.core.scoring.engine import Engine
from app.core.imageio.decode import load_rgb
from app.core.model.loader import load_model

from .atomic import atomic_path
from .data.mos import read_mos_csv
from .metrics import iqa_metrics


def evaluate_onnx(model_path: Path, csv_path: Path, root: Path, predictions_csv: Path | None = None) -> dict:
    engine = Engine(load_model(model_path))
    items = read_mos_csv(csv_path)
    preds = [engine.score(load_rgb(Path(root) / it.image)).score for it in items]
    metrics = iqa_metrics(preds, [it.mos for it in items]) | {"n": len(items)}
    if predictions_csv:
        with atomic_path(predictions_csv) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["image", "mos", "predicted"])
            writer.writerows((it.image, it.mos, f"{p:.3f}") for it, p in zip(items, preds))
    return metrics
