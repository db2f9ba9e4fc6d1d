"""The report's pictures as encoded bytes: the score histogram, the colour-scale bars of the
overlays, and a photo's overlays (the photo, where the model looked, where it found damage).

Each is a ``Picture`` (bytes, their type and a short text), so one report can embed them in an
HTML file (data URIs) or hand them to a PDF writer as resources, without encoding twice."""
from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

from ..imageio.decode import load_rgb
from ..scoring.engine import Engine
from ..scoring.overlay import ATTENTION_MAX_RATIO, attention_overlay, colorize, distortion_overlay, fused_attention
from ..scoring.reading import overview
from ..verdict import Thresholds

VERDICT_RGB = {"pass": (90, 170, 90), "review": (230, 180, 60), "fail": (210, 80, 80)}
OVERLAY_SIDE = 360  # px: the longer side of each overlay on the page


@dataclass(frozen=True)
class Picture:
    key: str  # unique in one report: the name a PDF writer registers it under
    mime: str  # image/png or image/jpeg
    data: bytes
    text: str  # the alt text: what it shows

    def data_uri(self) -> str:
        return f"data:{self.mime};base64," + base64.b64encode(self.data).decode()


def png_bytes(rgb: np.ndarray, max_side: int = OVERLAY_SIDE) -> bytes:
    h, w = rgb.shape[:2]
    f = min(1.0, max_side / max(h, w))
    if f < 1:
        rgb = cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()


def histogram(scores: list[float], thresholds: Thresholds, size=(180, 480)) -> Picture:
    """Scores in 20 bins of 5 points, each bar coloured by the verdict its scores get, with the
    two thresholds drawn as lines and the axis's ends labelled."""
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
    return Picture("histogram", "image/png", png_bytes(img, max_side=w),
                   f"histogram of {len(scores)} scores, thresholds at {thresholds.fail_below:g} and {thresholds.pass_at:g}")


def colour_scale(key: str, vmin: float, vmax: float, text: str, size=(14, 256)) -> Picture:
    """A bar from ``vmin`` to ``vmax`` in the overlays' own colours (their fixed scale, never
    stretched per photo, so one bar reads every overlay of its kind)."""
    h, w = size
    ramp = np.tile(np.linspace(vmin, vmax, w, dtype=np.float32), (h, 1))
    return Picture(key, "image/png", png_bytes(colorize(ramp, vmin, vmax), max_side=w), text)


ATTENTION_SCALE = ("scale-attention", 0.0, ATTENTION_MAX_RATIO, "attention colour scale")
DAMAGE_SCALE = ("scale-damage", 0.0, 1.0, "damage colour scale")


def overlays(path: str, engine: Engine, key: str) -> list[Picture]:
    """The photo's overview, where the model looked and where it found damage (ImageLoadError
    when the file cannot be read any more)."""
    rgb = load_rgb(path)
    res = engine.score(rgb)
    # The overview's maps on the overview itself: a page of overlays needs no native map.
    rgb = overview(rgb, engine.reading.overview_side)
    stride = engine.model.card.get("stride")
    return [
        Picture(f"{key}-photo", "image/png", png_bytes(rgb), "the photo"),
        Picture(f"{key}-attention", "image/png",
                png_bytes(attention_overlay(rgb, fused_attention(res.attention, res.fusion_weights), stride)),
                "where the model looked"),
        Picture(f"{key}-damage", "image/png", png_bytes(distortion_overlay(rgb, res.distortion, stride)),
                "where it found damage"),
    ]
