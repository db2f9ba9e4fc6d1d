"""The batch report as one self-contained HTML file (images embedded as data URIs, so the file can
be mailed or archived as it is). What it holds: ``batch_report``; how it reads: ``report_html``."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..scoring.engine import Engine
from ..verdict import Thresholds
from .atomic import written_whole
from .batch_report import WORST, BatchContext, build_report
from .report_html import render_html


def write_report(rows: list[dict], engine: Engine | None, thresholds: Thresholds, out: str | Path, worst: int = WORST,
                 context: BatchContext | None = None, thumbnails: dict[str, bytes] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the report of ``rows`` (export rows, with their reviews) to ``out``, whole or not at all."""
    out = Path(out)
    report = build_report(rows, engine, thresholds, context, thumbnails, worst, progress)
    with written_whole(out) as f:
        f.write(render_html(report))
    return out
