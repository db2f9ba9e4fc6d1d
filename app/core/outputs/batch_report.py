"""What a batch report holds, gathered once and rendered as HTML (``report_html``) or, by the
window, as PDF: the batch (where it came from, the lot, who and where, the model and its
thresholds, when it was scored), every photo with the disposition in force, the counts, the files
not scored, and the worst photos' overlays with their colour scales.

Building it is the slow part (each worst photo is read and scored again for its maps), so it
reports ``progress(done, total)`` per worst photo; the window runs it off its GUI thread."""
from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..imageio.decode import ImageLoadError
from ..scoring.engine import Engine
from ..verdict import Thresholds
from .report_images import ATTENTION_SCALE, DAMAGE_SCALE, Picture, colour_scale, histogram, overlays
from .report_rows import PhotoLine, disposition_counts, photo_lines, score_span

WORST = 6  # photos shown with their overlays


def station_name() -> str:
    return socket.gethostname() or "unknown"


@dataclass(frozen=True)
class BatchContext:
    """What the rows do not say: where the batch came from and who asked for the report."""

    source: str = ""  # the folder (or the camera) the photos came from
    lot: str = ""  # typed in when the report is asked for; optional
    operator: str = ""  # the person signed in
    station: str = field(default_factory=station_name)
    profile: str | None = None  # the threshold profile in force, by name


@dataclass(frozen=True)
class WorstPhoto:
    line: PhotoLine
    pictures: list[Picture]  # the photo, where the model looked, where it found damage
    problem: str = ""  # why there are no pictures (the file changed or went since it was scored)


@dataclass
class BatchReport:
    context: BatchContext
    model: dict  # name, version, sha256, provider
    thresholds: Thresholds
    written_at: datetime  # UTC
    lines: list[PhotoLine]  # every photo, worst first
    counts: dict[str, int]
    span: tuple[str, str] | None  # first and last scored_at (UTC)
    histogram: Picture
    scales: list[tuple[Picture, str, str]]  # (bar, its low end, its high end) in words
    worst: list[WorstPhoto]
    thumbnails: dict[str, Picture]  # path -> its gallery thumbnail

    @property
    def not_scored(self) -> list[PhotoLine]:
        return [line for line in self.lines if not line.scored]

    def pictures(self) -> list[Picture]:
        """Every picture the report shows, each once."""
        out = [self.histogram, *(bar for bar, _, _ in self.scales), *self.thumbnails.values()]
        return out + [p for w in self.worst for p in w.pictures]


def model_of(rows: list[dict], engine: Engine | None) -> dict:
    """The model the rows were scored with (the rows name it; the engine adds where it runs)."""
    first = rows[0] if rows else {}
    return {"name": first.get("model") or (engine.model.name if engine else ""),
            "version": first.get("model_version") or (engine.model.version if engine else ""),
            "sha256": first.get("model_sha256") or "",
            "provider": engine.model.provider if engine else ""}


def build_report(rows: list[dict], engine: Engine | None, thresholds: Thresholds, context: BatchContext | None = None,
                 thumbnails: dict[str, bytes] | None = None, worst: int = WORST,
                 progress: Callable[[int, int], None] | None = None) -> BatchReport:
    """``rows``: export rows with their reviews (``with_reviews``); ``thumbnails``: path -> JPEG
    bytes (the gallery's); ``engine``: reads the worst photos again for their overlays (None: no
    overlays)."""
    lines = photo_lines(rows)
    chosen = [line for line in lines if line.scored][:worst] if engine is not None else []
    shown = []
    for n, line in enumerate(chosen, 1):
        try:
            shown.append(WorstPhoto(line, overlays(line.path, engine, f"worst-{n}")))
        except ImageLoadError as exc:
            shown.append(WorstPhoto(line, [], str(exc)))
        if progress is not None:
            progress(n, len(chosen))
    scales = [(colour_scale(*ATTENTION_SCALE), "0× (less than the average cell)", f"{ATTENTION_SCALE[2]:g}× the average"),
              (colour_scale(*DAMAGE_SCALE), "0 (clean)", "1 (badly damaged)")]
    listed = {line.path for line in lines}
    thumbs = {path: Picture(f"thumb-{i}", "image/jpeg", jpeg, f"thumbnail of {path}")
              for i, (path, jpeg) in enumerate(sorted((thumbnails or {}).items())) if jpeg and path in listed}
    return BatchReport(context or BatchContext(), model_of(rows, engine), thresholds,
                       datetime.now(UTC).replace(tzinfo=None), lines, disposition_counts(lines), score_span(rows),
                       histogram([line.score for line in lines if line.scored], thresholds), scales, shown, thumbs)
