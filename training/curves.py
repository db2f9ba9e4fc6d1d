"""Training curves as a PNG, drawn with OpenCV (no plotting library needed)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

COLOURS = [(200, 80, 30), (30, 140, 40), (40, 40, 200), (160, 40, 160), (20, 160, 180)]


def _panel(series: dict[str, list[float]], title: str, size=(360, 520)) -> np.ndarray:
    h, w = size
    img = np.full((h, w, 3), 255, np.uint8)
    m = 40
    cv2.putText(img, title, (m, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    values = [v for s in series.values() for v in s if np.isfinite(v)]
    if not values:
        return img
    lo, hi = min(values), max(values)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    n = max(len(s) for s in series.values())
    cv2.rectangle(img, (m, m), (w - 10, h - m), (180, 180, 180), 1)
    for label, y in ((f"{hi:.3f}", m + 5), (f"{lo:.3f}", h - m)):
        cv2.putText(img, label, (2, y), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(img, f"epoch 1..{n}", (m, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for i, (name, s) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = [
            (int(m + (w - 10 - m) * (j / max(1, n - 1))), int(h - m - (h - 2 * m) * ((v - lo) / (hi - lo))))
            for j, v in enumerate(s)
            if np.isfinite(v)
        ]
        if len(pts) > 1:
            cv2.polylines(img, [np.array(pts, np.int32)], False, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 3, colour, -1)
        cv2.putText(img, name, (w - 150, m + 18 * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    return img


def plot_curves(history: list[dict], path: Path) -> None:
    losses = {k: [row.get(k, np.nan) for row in history] for k in history[0] if k.startswith("loss_")} if history else {}
    # SRCC and PLCC for the MOS stages; a stage validated otherwise plots its own figures.
    shown = ("val_srcc", "val_plcc") if history and "val_srcc" in history[-1] else \
        tuple(k for k in (history[-1] if history else {}) if k.startswith("val_"))
    vals = {k: [row.get(k, np.nan) for row in history] for k in shown}
    img = np.concatenate([_panel(losses, "training loss"), _panel(vals, "validation")], axis=1)
    cv2.imwrite(str(path), img)
