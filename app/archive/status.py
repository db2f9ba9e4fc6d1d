"""``archive status``: where the scoring of a database's photos stands, from the database alone
(no walk, no cluster): rows per status and verdict, how many were reviewed, what the archive
runs wrote, and the write rate over the last minutes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select

from ..core.store.database import Database
from ..core.store.schema import Image, ModelVersion, Review, Score, utcnow

RECENT = timedelta(minutes=10)


@dataclass
class VersionStatus:
    id: int
    name: str
    version: str
    sha256: str
    active: bool
    rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_verdict: dict[str, int] = field(default_factory=dict)
    archive_rows: int = 0  # written by archive runs
    reviewed: int = 0  # photos with an inspector's decision
    first: datetime | None = None
    last: datetime | None = None
    recent: int = 0  # rows written in the last RECENT

    @property
    def recent_rate(self) -> float:
        return self.recent / RECENT.total_seconds()


def archive_status(db: Database, now: datetime | None = None) -> list[VersionStatus]:
    """One entry per model version that has rows (the active one first)."""
    now = now or utcnow()
    with db.session() as s:
        versions = {mv.id: VersionStatus(mv.id, mv.name, mv.version, mv.sha256, bool(mv.active))
                    for mv in s.scalars(select(ModelVersion))}
        for mv, status, n, first, last in s.execute(
                select(Score.model_version_id, Score.status, func.count(), func.min(Score.scored_at),
                       func.max(Score.scored_at)).group_by(Score.model_version_id, Score.status)):
            v = versions[mv]
            v.rows += n
            v.by_status[status] = n
            v.first = first if v.first is None else min(v.first, first)
            v.last = last if v.last is None else max(v.last, last)
        for mv, verdict, n in s.execute(
                select(Score.model_version_id, Score.verdict, func.count())
                .where(Score.verdict.is_not(None)).group_by(Score.model_version_id, Score.verdict)):
            versions[mv].by_verdict[verdict] = n
        for mv, n in s.execute(select(Score.model_version_id, func.count()).join(Image)
                               .where(Image.source == "archive").group_by(Score.model_version_id)):
            versions[mv].archive_rows = n
        for mv, n in s.execute(select(Score.model_version_id, func.count())
                               .where(Score.scored_at >= now - RECENT).group_by(Score.model_version_id)):
            versions[mv].recent = n
        for mv, n in s.execute(select(Review.model_version_id, func.count(distinct(Review.image_id)))
                               .group_by(Review.model_version_id)):
            if mv in versions:
                versions[mv].reviewed = n
    shown = [v for v in versions.values() if v.rows or v.active]
    return sorted(shown, key=lambda v: (not v.active, -v.rows))


def format_status(versions: list[VersionStatus], where: str) -> str:
    if not versions:
        return f"database {where}: no photos scored yet"
    lines = [f"database {where}"]
    for v in versions:
        lines.append(f"model {v.name} v{v.version} (sha256 {v.sha256[:12]}…){'  [active]' if v.active else ''}")
        ok = v.by_status.get("ok", 0)
        lines.append(f"  photos stored: {v.rows} ({v.archive_rows} by archive runs), scored ok: {ok}")
        if v.by_verdict:
            lines.append("  verdicts: " + ", ".join(f"{k} {v.by_verdict.get(k, 0)}" for k in ("pass", "review", "fail")))
        failed = {k: n for k, n in sorted(v.by_status.items()) if k != "ok"}
        if failed:
            lines.append(f"  not scored: {sum(failed.values())} (" + ", ".join(f"{k} {n}" for k, n in failed.items()) + ")")
        lines.append(f"  reviewed by an inspector: {v.reviewed}")
        if v.last is not None:
            lines.append(f"  first row {v.first:%Y-%m-%d %H:%M:%S}, last row {v.last:%Y-%m-%d %H:%M:%S} UTC; "
                         f"last {int(RECENT.total_seconds() // 60)} min: {v.recent} rows ({v.recent_rate:.2f}/s)")
    return "\n".join(lines)
