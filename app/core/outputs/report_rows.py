"""The report's table of photos, read from export rows (``with_reviews``'s): one line per photo with
its score, the model's verdict, the disposition in force and who decided it, the worst first;
the counts by disposition; the span of time the batch was scored in. Plain data, no HTML."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from ..verdict import DECIDED, WORST_FIRST, in_force, severity_rank
from .reason_codes import reason_label

NOT_SCORED = "not scored"


@dataclass(frozen=True)
class PhotoLine:
    path: str
    status: str  # ok, or why it could not be scored
    score: float | None
    verdict: str | None  # the model's, from the thresholds in force
    disposition: str | None  # the verdict in force: an accept or a reject over the model's
    decision: str | None = None  # reviewed, accepted, rejected
    reason: str = ""  # as it reads: the code, and the free text after it
    decided_by: str = ""
    decided_at: str = ""  # ISO, UTC, as the store keeps it
    error: str = ""

    @property
    def name(self) -> str:
        return PurePath(self.path).name

    @property
    def scored(self) -> bool:
        return self.status == "ok"

    @property
    def overridden(self) -> bool:
        return self.decision in DECIDED


def photo_lines(rows: list[dict]) -> list[PhotoLine]:
    """Every photo, worst first: by disposition (fail, review, pass), then by score, then by name;
    the files that could not be scored last."""
    lines = []
    for r in rows:
        scored = r.get("status") == "ok"
        verdict = r.get("verdict") if scored else None
        decision = r.get("review") or None
        disposition = (r.get("disposition") or in_force(verdict, decision)) if scored else None
        lines.append(PhotoLine(r["path"], r.get("status") or "", r.get("score"), verdict, disposition, decision,
                               reason_label(r.get("review_reason_code"), r.get("review_reason")),
                               r.get("reviewed_by") or "", r.get("reviewed_at") or "",
                               r.get("error") or ""))
    return sorted(lines, key=lambda line: (severity_rank(line.disposition),
                                           line.score if line.score is not None else 0.0, line.name))


def disposition_counts(lines: list[PhotoLine]) -> dict[str, int]:
    """How many photos each disposition has, the files not scored, and how many of the
    dispositions are a person's accept or reject."""
    counts = {v: 0 for v in WORST_FIRST} | {NOT_SCORED: 0, "accepted": 0, "rejected": 0}
    for line in lines:
        counts[line.disposition if line.scored else NOT_SCORED] += 1
        if line.overridden:
            counts[line.decision] += 1
    return counts


def score_span(rows: list[dict]) -> tuple[str, str] | None:
    """(first, last) scored_at of the rows (ISO text, UTC), or None for no rows."""
    times = sorted(r["scored_at"] for r in rows if r.get("scored_at"))
    return (times[0], times[-1]) if times else None
