"""Ratings out of the database (Qt-free): raw votes as CSV in the layout ``ratings_import``
reads (a round trip is exact), gold answers, and the site's MOS and rater screening as tables.
"""
from __future__ import annotations

import csv
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ..imageio.file_names import canonical_path
from ..outputs.atomic import written_whole
from ..outputs.scores_csv import SpreadsheetSafeWriter
from ..store.database import Database
from ..store.schema import Image, Rater, RatingSession, Vote
from .mos import ImageMOS, image_mos, votes_per_photo_text
from .screening import Screening, screen
from .session import gold_answers, standing_votes
from .subject_model import fit_subject_model

from .csv_import import condition_text, session_label
from .votes_file import GOLD_COLUMNS, VOTE_COLUMNS, format_time


def _shown_path(path: str, root: Path | None) -> str:
    if root is not None:
        root_text = str(canonical_path(root))
        if os.path.commonpath([root_text, path]) == root_text:
            return os.path.relpath(path, root_text)
    return path


@contextmanager
def _csv_output(out: str | Path):
    """A CSV writer to ``out``: ``-`` is stdout; a file is written whole (app.core.outputs.atomic).
    Rater ids and photo names come from imported files too: a cell a spreadsheet would run as a
    formula is written inert (``ratings import`` reads it back as it was)."""
    if str(out) == "-":
        yield SpreadsheetSafeWriter(csv.writer(sys.stdout, lineterminator="\n"))
        sys.stdout.flush()
        return
    with written_whole(out, newline="") as f:
        yield SpreadsheetSafeWriter(csv.writer(f, lineterminator="\n"))


def export_votes(db: Database, out: str | Path, root: str | Path | None = None) -> int:
    """Every raw vote (withdrawn ones too, with the time they were withdrawn) in the
    ``mobileiqa`` layout, oldest first; returns how many."""
    root = Path(root) if root is not None else None
    with db.session() as s:
        rows = s.execute(select(Rater.key, Image.path, Vote, RatingSession)
                         .join(Rater, Rater.id == Vote.rater_id).join(Image, Image.id == Vote.image_id)
                         .outerjoin(RatingSession, RatingSession.id == Vote.session_id)
                         .order_by(Vote.created_at, Vote.id)).all()
    with _csv_output(out) as writer:
        writer.writerow(VOTE_COLUMNS)
        for key, photo, vote, session in rows:
            timeless = bool(session and session.display and session.display.get("time_known") is False)
            writer.writerow([key, _shown_path(photo, root), vote.value, "" if timeless else format_time(vote.created_at),
                             session_label(session), condition_text(session.display if session else None), vote.kind,
                             "" if vote.response_ms is None else vote.response_ms, format_time(vote.withdrawn_at)])
    return len(rows)


def export_gold(db: Database, out: str | Path, root: str | Path | None = None) -> int:
    gold = gold_answers(db)
    root = Path(root) if root is not None else None
    with _csv_output(out) as writer:
        writer.writerow(GOLD_COLUMNS)
        for photo, (expected, tolerance) in sorted(gold.items()):
            writer.writerow([_shown_path(photo, root), expected, tolerance])
    return len(gold)


@dataclass(frozen=True)
class SiteRatings:
    """The station's standing votes, screened: what ``ratings mos`` and the panels show."""

    votes: list[tuple[str, str, int]]
    gold: dict[str, tuple[int, int]]
    screening: Screening
    all: dict[str, ImageMOS]  # every rater
    screened: dict[str, ImageMOS]  # rejected raters left out
    model: dict[str, tuple[float, float]]  # subject model (rejected raters left out): psi, CI

    @property
    def rejected(self) -> set[str]:
        return self.screening.rejected


def site_ratings(db: Database) -> SiteRatings:
    votes, gold = standing_votes(db), gold_answers(db)
    screening = screen(votes, gold)
    rejected = screening.rejected
    kept = [v for v in votes if v[0] not in rejected]
    model = fit_subject_model(kept).photo_quality() if kept else {}
    return SiteRatings(votes, gold, screening, image_mos(votes), image_mos(votes, exclude=rejected), model)


def _num(value: float, digits: int = 4) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


PHOTO_COLUMNS = ["photo", "n", "mos", "std", "ci95", "n_all", "mos_all", "std_all", "ci95_all",
                 "model_mos", "model_ci95", "gold"]
RATER_COLUMNS = ["rater", "rejected", "reasons", "notes", "votes", "bt500_votes", "outliers_high", "outliers_low",
                 "outlier_share", "correlation", "shared_photos", "std", "bias", "inconsistency", "inconsistency_ci95",
                 "gold_votes", "gold_correct"]


def write_photo_table(site: SiteRatings, out: str | Path, root: str | Path | None = None) -> int:
    """Per photo, on the 1-5 ACR scale: MOS, std, n and 95 % CI half-width without the rejected
    raters, the same with every rater (``_all``), the subject model's estimate and interval,
    and the gold answer where the photo is a gold image. Returns the number of photos."""
    root = Path(root) if root is not None else None
    with _csv_output(out) as writer:
        writer.writerow(PHOTO_COLUMNS)
        for photo in sorted(site.all):
            a, m = site.all[photo], site.screened.get(photo)
            psi, ci = site.model.get(photo, (math.nan, math.nan))
            g = site.gold.get(photo)
            writer.writerow([_shown_path(photo, root), m.n if m else 0, _num(m.mos if m else math.nan),
                             _num(m.std if m else math.nan), _num(m.ci95 if m else math.nan), a.n, _num(a.mos),
                             _num(a.std), _num(a.ci95), _num(psi), _num(ci), f"{g[0]}±{g[1]}" if g else ""])
    return len(site.all)


def write_rater_table(site: SiteRatings, out: str | Path) -> int:
    """Each rater's screening result, with the reason for a rejection and what could not be judged."""
    with _csv_output(out) as writer:
        writer.writerow(RATER_COLUMNS)
        for key in sorted(site.screening.raters):
            r = site.screening.raters[key]
            writer.writerow([key, "yes" if r.rejected else "no", "; ".join(r.reasons), "; ".join(r.notes), r.votes,
                             r.bt500_votes, r.outliers_high, r.outliers_low, _num(r.outlier_share),
                             _num(r.correlation), r.shared_photos, _num(r.std), _num(r.bias), _num(r.inconsistency),
                             _num(r.inconsistency_ci95), r.gold_votes, r.gold_correct])
    return len(site.screening.raters)


def batch_summary(db: Database, photos: list[str], limit: int = 12) -> str:
    """For the labeling panel at the end of a batch: votes per photo, each photo's MOS ± 95 % CI
    (rejected raters left out; first ``limit`` photos) and what screening could judge."""
    site = site_ratings(db)
    mos = {p: site.screened[p] for p in photos if p in site.screened}
    lines = [f"This batch: {votes_per_photo_text(mos)} (MOS ± 95 % CI on the 1-5 scale, rejected raters left out)"]
    for photo in sorted(mos)[:limit]:
        lines.append(f"{Path(photo).name}: {mos[photo].text()}")
    if len(mos) > limit:
        lines.append(f"… and {len(mos) - limit} more (python -m app ratings mos --csv FILE lists them all)")
    lines.append(site.screening.summary())
    return "\n".join(lines)

