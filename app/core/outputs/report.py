"""A self-contained HTML batch report: counts, a score histogram, the worst photos with overlays.

Images are embedded as base64 PNG, so the single file can be mailed or archived as it is.
"""
from __future__ import annotations

import base64
import html
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from ..imageio.decode import ImageLoadError, load_rgb
from ..scoring.engine import Engine
from ..scoring.overlay import attention_overlay, distortion_overlay, fused_attention
from ..scoring.reading import overview
from ..verdict import Thresholds
from .atomic import written_whole

VERDICT_RGB = {"pass": (90, 170, 90), "review": (230, 180, 60), "fail": (210, 80, 80)}


def _png(rgb: np.ndarray, max_side: int = 360) -> str:
    h, w = rgb.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f < 1:
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    _, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


def histogram_png(scores: list[float], thresholds: Thresholds, size=(180, 480)) -> str:
    h, w = size
    img = np.full((h, w, 3), 255, np.uint8)
    counts = np.histogram(scores, bins=20, range=(0, 100))[0]
    peak = max(1, counts.max())
    for i, n in enumerate(counts):
        colour = VERDICT_RGB[thresholds.verdict((i + 0.5) * 5)]
        x0, x1 = int(i * w / 20) + 1, int((i + 1) * w / 20) - 1
        cv2.rectangle(img, (x0, h - 20 - int((h - 30) * n / peak)), (x1, h - 20), colour, -1)
    for value in (thresholds.fail_below, thresholds.pass_at):
        x = int(w * value / 100)
        cv2.line(img, (x, 0), (x, h - 20), (0, 0, 0), 1)
    cv2.putText(img, "0", (2, h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    cv2.putText(img, "100", (w - 28, h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    return _png(img, max_side=w)


def write_report(rows: list[dict], engine: Engine, thresholds: Thresholds, out: str | Path, worst: int = 6) -> Path:
    out = Path(out)
    ok = [r for r in rows if r["status"] == "ok"]
    counts = thresholds.counts([r["score"] for r in ok])
    errors = [r for r in rows if r["status"] != "ok"]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>MobileIQA batch report</title>",
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;text-align:left}"
        ".worst img{margin:2px}.pass{color:#2a7a2a}.review{color:#b07800}.fail{color:#b02020}</style>",
        f"<h1>Batch report</h1><p>{html.escape(datetime.now().isoformat(timespec='seconds'))} — "
        f"model {html.escape(engine.model.name)} v{html.escape(engine.model.version)} "
        f"on {html.escape(engine.model.provider)} — "
        f"pass ≥ {thresholds.pass_at:g}, fail &lt; {thresholds.fail_below:g}</p>",
        "<table><tr><th>photos</th><th class=pass>pass</th><th class=review>review</th><th class=fail>fail</th><th>not scored</th></tr>"
        f"<tr><td>{len(rows)}</td><td>{counts['pass']}</td><td>{counts['review']}</td><td>{counts['fail']}</td><td>{len(errors)}</td></tr></table>",
        f"<h2>Scores</h2><img alt='histogram' src='{histogram_png([r['score'] for r in ok], thresholds)}'>",
        f"<h2>The {min(worst, len(ok))} worst photos</h2><p>photo, where the model looked, where it found damage</p>",
    ]
    stride = engine.model.card.get("stride")
    for r in sorted(ok, key=lambda r: r["score"])[:worst]:
        name = html.escape(Path(r["path"]).name)
        try:
            rgb = load_rgb(r["path"])
        except ImageLoadError as exc:
            parts.append(f"<p>{name}: {html.escape(str(exc))}</p>")
            continue
        res = engine.score(rgb)
        # The overview's maps on the overview itself: a page of thumbnails needs no native map.
        rgb = overview(rgb, engine.reading.overview_side)
        images = [rgb, attention_overlay(rgb, fused_attention(res.attention, res.fusion_weights), stride), distortion_overlay(rgb, res.distortion, stride)]
        parts.append(
            f"<div class=worst><p><b>{name}</b> — {r['score']:.1f} "
            f"<span class={thresholds.verdict(r['score'])}>{thresholds.verdict(r['score'])}</span></p>"
            + "".join(f"<img src='{_png(im)}'>" for im in images) + "</div>"
        )
    if errors:
        parts.append("<h2>Not scored</h2><table><tr><th>file</th><th>status</th><th>message</th></tr>")
        parts += [
            f"<tr><td>{html.escape(Path(r['path']).name)}</td><td>{html.escape(r['status'])}</td><td>{html.escape(r['error'] or '')}</td></tr>"
            for r in errors
        ]
        parts.append("</table>")
    with written_whole(out) as f:
        f.write("\n".join(parts))
    return out
