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


# The histogram as it stands on the page (CSS px), drawn at twice that so print stays sharp; the
# margins hold the count axis (left), the threshold labels (top) and the score axis (bottom).
HISTOGRAM_SIZE = (480, 210)
HISTOGRAM_SCALE = 2
_MARGINS = (44, 26, 14, 38)  # left, top, right, bottom
FAIL_RGB, PASS_RGB = (160, 30, 30), (30, 120, 30)  # the threshold lines, darker than the bars


@dataclass(frozen=True)
class HistogramAxes:
    """What the histogram's axes say: each score tick once (0 to 100), the count ticks (0 up to
    at least the tallest bar) and each threshold line with its label."""

    score_ticks: tuple[int, ...]
    count_ticks: tuple[int, ...]
    lines: tuple[tuple[float, str], ...]


def count_ticks(peak: int, most: int = 5) -> tuple[int, ...]:
    """0 and whole steps of 1, 2 or 5 times a power of ten, the last at or above ``peak``, at
    most ``most`` of them."""
    step = 1
    while (max(1, peak) + step - 1) // step + 1 > most:
        step = next(s * 10 ** e for e in range(10) for s in (1, 2, 5) if s * 10 ** e > step)
    top = -(-max(1, peak) // step) * step
    return tuple(range(0, top + 1, step))


def histogram_axes(counts: np.ndarray, thresholds: Thresholds) -> HistogramAxes:
    return HistogramAxes(tuple(range(0, 101, 20)), count_ticks(int(counts.max()) if len(counts) else 0),
                         ((thresholds.fail_below, f"fail below {thresholds.fail_below:g}"),
                          (thresholds.pass_at, f"pass from {thresholds.pass_at:g}")))


def histogram(scores: list[float], thresholds: Thresholds) -> Picture:
    """Scores in 20 bins of 5 points, each bar coloured by the verdict its scores get, on a score
    axis (0-100) and a photo-count axis, with the two thresholds drawn as labelled lines."""
    from PIL import Image, ImageDraw, ImageFont

    k = HISTOGRAM_SCALE
    w, h = HISTOGRAM_SIZE[0] * k, HISTOGRAM_SIZE[1] * k
    left, top, right, bottom = (m * k for m in _MARGINS)
    x0, x1, y0, y1 = left, w - right, top, h - bottom  # the plot area
    counts = np.histogram(scores, bins=20, range=(0, 100))[0]
    axes = histogram_axes(counts, thresholds)
    ceiling = axes.count_ticks[-1]
    font = ImageFont.load_default(size=11 * k)
    img = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(img)

    def x_at(score: float) -> float:
        return x0 + (x1 - x0) * score / 100

    def y_at(count: float) -> float:
        return y1 - (y1 - y0) * count / ceiling

    for count in axes.count_ticks:  # grid lines and the count axis's labels
        y = y_at(count)
        draw.line((x0, y, x1, y), fill=(225, 225, 225), width=1)
        draw.text((x0 - 6 * k, y), str(count), fill="black", font=font, anchor="rm")
    for i, n in enumerate(counts):
        if n:
            colour = VERDICT_RGB[thresholds.verdict((i + 0.5) * 5)]
            draw.rectangle((x_at(i * 5) + k, y_at(n), x_at((i + 1) * 5) - k, y1), fill=colour)
    draw.line((x0, y0, x0, y1), fill="black", width=k)  # the axes, each once
    draw.line((x0, y1, x1, y1), fill="black", width=k)
    for score in axes.score_ticks:
        draw.line((x_at(score), y1, x_at(score), y1 + 4 * k), fill="black", width=k)
        draw.text((x_at(score), y1 + 6 * k), str(score), fill="black", font=font, anchor="mt")
    draw.text(((x0 + x1) / 2, h - 2 * k), "Score", fill="black", font=font, anchor="md")
    draw.text((x0 - 6 * k, y0 - 8 * k), "Photos", fill="black", font=font, anchor="rd")
    # The lines' labels point away from each other: fail's ends at its line, pass's starts there.
    for (score, label), colour, anchor in zip(axes.lines, (FAIL_RGB, PASS_RGB), ("rd", "ld")):
        x = x_at(score)
        draw.line((x, y0, x, y1), fill=colour, width=k)
        width = draw.textlength(label, font=font)
        at = max(x - 3 * k, width) if anchor == "rd" else min(x + 3 * k, w - width)  # kept on the picture
        draw.text((at, y0 - 4 * k), label, fill=colour, font=font, anchor=anchor)
    out = np.asarray(img)
    return Picture("histogram", "image/png", png_bytes(out, max_side=max(w, h)),
                   f"histogram of {len(scores)} scores: photos per 5 points of score (0-100), "
                   f"{axes.lines[0][1]} and {axes.lines[1][1]} drawn as lines")


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
