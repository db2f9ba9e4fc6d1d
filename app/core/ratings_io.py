"""Ratings in and out of the database (Qt-free): raw votes from and to CSV, and the site's MOS
and rater screening as tables.

Imported votes are stored as raw votes exactly like the labeling panel's (rater, photo, session,
value, kind, time), each in a rating session that records where it came from; nothing stored is
ever overwritten, and importing the same file twice adds nothing the second time.

Layouts read (detected from the header; ``,``, ``;`` or tab separated):

- ``mobileiqa``, this program's own, also what ``ratings export`` writes: one row per vote,
  ``rater,photo,vote,time`` required; ``session``, ``condition``, ``kind`` (normal, gold or
  training; default normal), ``response_ms`` and ``withdrawn`` (the time it was withdrawn)
  optional. ``vote`` is an ACR level 1-5; times are ISO 8601 (``Z`` or an offset; a time without
  one is taken as UTC) or Unix seconds.
- ``avrateng``: avrateNG's ``ratings`` table as its ``convert_ratings_to_csv.py`` writes it,
  ``user_ID,stimuli_ID,stimuli_file,rating_type,rating,timestamp``; rows whose ``rating_type``
  is not ``acr`` (``user_registered``, questionnaire answers) are left out and counted.
  avrateNG's timestamps are local time without a zone: they are stored as written.
- ``p808``: the per-worker votes of Microsoft's P.808 toolkit (``result_parser.py``'s
  ``*_votes_per_worker*.csv``), ``workerid,file,vote`` with ``assignment_id`` as the session and
  ``condition_name`` as the condition where present; the file's URL is reduced to its file
  name. It carries no time, so the import time is stored and duplicates are recognised by
  rater, photo, vote and assignment.

Photos are stored under their canonical absolute path (app.core.batch.canonical_path); a
relative path resolves against ``root`` or, without one, the CSV's own folder.
"""
from __future__ import annotations

import csv
import io
import math
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from .batch import canonical_path, storable_path
from .labeling import gold_answers, standing_votes
from .output_files import written_whole
from .ratings import ImageMOS, Screening, image_mos, screen, votes_per_photo_text
from .store.database import Database
from .store.schema import GoldImage, Image, Rater, RatingSession, Vote, utcnow
from .subject_model import fit_subject_model

VOTE_COLUMNS = ["rater", "photo", "vote", "time", "session", "condition", "kind", "response_ms", "withdrawn"]
GOLD_COLUMNS = ["photo", "expected", "tolerance"]
KINDS = ("normal", "gold", "training")
LAYOUTS = ("mobileiqa", "avrateng", "p808")
SOURCE = "ratings-import"  # Image.source of a photo first seen in an imported file


class RatingsFileError(ValueError):
    """A file that cannot be read as votes at all (missing, no header, unknown layout)."""


@dataclass(frozen=True)
class CsvVote:
    line: int
    rater: str
    photo: str  # canonical absolute path
    value: int
    time: datetime | None  # naive UTC; None where the layout has no time
    session: str | None = None
    condition: str | None = None
    kind: str | None = None  # None: gold when the photo is a gold image, else normal
    response_ms: int | None = None
    withdrawn: datetime | None = None


@dataclass
class ReadResult:
    layout: str
    votes: list[CsvVote] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    other_rows: int = 0  # rows of a layout that are not votes (avrateNG's other rating types)


@dataclass
class ImportResult:
    layout: str
    added: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    other_rows: int = 0
    raters: int = 0
    photos: int = 0
    photos_missing: int = 0  # not found on this station's disk (votes stored all the same)
    gold_added: int = 0
    gold_kept: list[str] = field(default_factory=list)  # gold answers that differ from the stored ones

    def text(self) -> str:
        parts = [f"{self.added} vote(s) imported ({self.layout} layout) from {self.raters} rater(s) on "
                 f"{self.photos} photo(s)", f"{self.duplicates} already in the database"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} row(s) skipped")
        if self.other_rows:
            parts.append(f"{self.other_rows} row(s) that are not ACR votes left out")
        if self.gold_added:
            parts.append(f"{self.gold_added} gold answer(s) added")
        text = ", ".join(parts)
        if self.photos_missing:
            text += f"; {self.photos_missing} photo(s) are not on this station's disk (check --root)"
        return text


# --- Reading ----------------------------------------------------------------------------------
def parse_time(text: str) -> datetime:
    """ISO 8601 (with ``Z``, an offset or neither), avrateNG's ``%Y-%m-%d %H:%M:%S %f``, or Unix
    seconds; returned as naive UTC (a time without a zone is taken as it is)."""
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %f")
        except ValueError:
            raise ValueError(f"time {text!r} is neither ISO 8601 nor Unix seconds") from None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def format_time(when: datetime | None) -> str:
    return "" if when is None else when.isoformat(timespec="microseconds") + "Z"


def _acr(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"vote {text!r} is not a number") from None
    if not value.is_integer() or not 1 <= value <= 5:
        raise ValueError(f"vote {text!r} is not an ACR level 1-5")
    return int(value)


def resolve_photo(text: str, base: Path) -> str:
    """The canonical absolute path of a photo named in a CSV (relative to ``base``)."""
    text = text.strip()
    if not text:
        raise ValueError("no photo")
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = base / path
    stored = storable_path(canonical_path(path))
    if stored is None:
        raise ValueError("the photo's path is not valid UTF-8")
    return stored


def _layout(header: list[str]) -> str:
    names = {h.strip().lower() for h in header}
    if {"rater", "photo", "vote", "time"} <= names:
        return "mobileiqa"
    if {"user_id", "stimuli_file", "rating_type", "rating", "timestamp"} <= names:
        return "avrateng"
    if {"workerid", "file", "vote"} <= names:
        return "p808"
    raise RatingsFileError(
        "the header matches no known layout: this program's own needs rater, photo, vote, time; "
        "avrateNG's user_ID, stimuli_file, rating_type, rating, timestamp; P.808's workerid, file, vote "
        f"(found: {', '.join(header)})")


def _rows(path: Path) -> tuple[list[str], csv.DictReader]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RatingsFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RatingsFileError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise RatingsFileError(f"{path}: empty")
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = reader.fieldnames or []
    reader.fieldnames = [h.strip().lower() for h in header]
    return header, reader


def read_votes_csv(path: str | Path, root: str | Path | None = None, rater_prefix: str = "") -> ReadResult:
    """Every vote of a CSV in one of the LAYOUTS, with the rows that could not be read and why."""
    path = Path(path)
    base = Path(root) if root is not None else path.resolve().parent
    header, reader = _rows(path)
    result = ReadResult(_layout(header))
    for row in reader:
        line = reader.line_num
        get = lambda name: (row.get(name) or "").strip()  # noqa: E731
        try:
            if result.layout == "mobileiqa":
                kind = get("kind") or None
                if kind is not None and kind not in KINDS:
                    raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
                ms = get("response_ms")
                vote = CsvVote(line, get("rater"), resolve_photo(get("photo"), base), _acr(get("vote")),
                               parse_time(get("time")) if get("time") else None, get("session") or None,
                               get("condition") or None, kind, int(float(ms)) if ms else None,
                               parse_time(get("withdrawn")) if get("withdrawn") else None)
                if vote.time is None:
                    raise ValueError("no time")
            elif result.layout == "avrateng":
                if get("rating_type") != "acr":
                    result.other_rows += 1
                    continue
                vote = CsvVote(line, get("user_id"), resolve_photo(get("stimuli_file"), base), _acr(get("rating")),
                               parse_time(get("timestamp")))
            else:
                photo = get("file")
                photo = photo.rsplit("/", 1)[-1] if "://" in photo else photo
                vote = CsvVote(line, get("workerid"), resolve_photo(photo, base), _acr(get("vote")), None,
                               get("assignment_id") or get("assignmentid") or None, get("condition_name") or None)
        except ValueError as exc:
            result.skipped.append((line, str(exc)))
            continue
        if not vote.rater:
            result.skipped.append((line, "no rater"))
            continue
        result.votes.append(replace(vote, rater=rater_prefix + vote.rater))
    return result


def read_gold_csv(path: str | Path, root: str | Path | None = None) -> dict[str, tuple[int, int]]:
    """``photo,expected[,tolerance]`` (tolerance 1 by default) -> photo: (expected, tolerance)."""
    path = Path(path)
    base = Path(root) if root is not None else path.resolve().parent
    _, reader = _rows(path)
    if not {"photo", "expected"} <= set(reader.fieldnames or []):
        raise RatingsFileError(f"{path}: a gold file needs the columns photo, expected (and tolerance)")
    gold = {}
    for row in reader:
        try:
            tolerance = int(row.get("tolerance") or 1)
            gold[resolve_photo(row["photo"] or "", base)] = (_acr(row["expected"] or ""), tolerance)
        except ValueError as exc:
            raise RatingsFileError(f"{path}, line {reader.line_num}: {exc}") from None
    return gold


# --- Storing ----------------------------------------------------------------------------------
def condition_text(display: dict | None) -> str:
    """A panel session's display conditions as one field: ``panel=800x600 screen=1920x1080``."""
    if not display:
        return ""
    if "imported" in display:
        return display.get("condition") or ""
    return " ".join(f"{k}={v}" for k, v in sorted(display.items()) if v is not None)


def session_label(session: RatingSession | None) -> str:
    """An imported session's own label; a panel session's database id."""
    if session is None:
        return ""
    if session.display and "imported" in session.display:
        return session.display.get("session") or ""
    return str(session.id)


def _vote_key(rater, photo, value, when, label, condition):
    return rater, photo, int(value), when, label or "", condition or ""


def _image_id(s, path: str, cache: dict) -> int:
    if path not in cache:
        image = s.scalar(select(Image).where(Image.path == path))
        if image is None:
            image = Image(path=path, source=SOURCE)
            s.add(image)
            s.flush()
        cache[path] = image.id
    return cache[path]


def import_votes(db: Database, path: str | Path, root: str | Path | None = None, gold_path: str | Path | None = None,
                 rater_prefix: str = "") -> ImportResult:
    """Store every vote of ``path`` not already stored, in one transaction (all or nothing)."""
    read = read_votes_csv(path, root, rater_prefix)
    gold = read_gold_csv(gold_path, root) if gold_path is not None else {}
    if not read.votes and not gold:
        raise RatingsFileError(f"{path}: no vote could be read"
                               + (f" (first problem, line {read.skipped[0][0]}: {read.skipped[0][1]})" if read.skipped else ""))
    source = Path(path).name

    def store() -> ImportResult:
        result = ImportResult(read.layout, skipped=list(read.skipped), other_rows=read.other_rows)
        with db.session() as s:
            images: dict[str, int] = {}
            for photo, (expected, tolerance) in gold.items():
                existing = s.get(GoldImage, _image_id(s, photo, images))
                if existing is None:
                    s.add(GoldImage(image_id=images[photo], expected=expected, tolerance=tolerance))
                    result.gold_added += 1
                elif (existing.expected, existing.tolerance) != (expected, tolerance):
                    result.gold_kept.append(photo)
            gold_ids = set(s.scalars(select(GoldImage.image_id)))
            keys = {r.key: r.id for r in s.scalars(select(Rater).where(Rater.key.in_({v.rater for v in read.votes})))}
            known = set()
            sessions: dict[tuple, int] = {}
            rows = s.execute(select(Rater.key, Image.path, Vote.value, Vote.created_at, RatingSession)
                             .join(Rater, Rater.id == Vote.rater_id).join(Image, Image.id == Vote.image_id)
                             .outerjoin(RatingSession, RatingSession.id == Vote.session_id)
                             .where(Vote.rater_id.in_(keys.values())))
            for key, photo, value, when, session in rows:
                timeless = bool(session and session.display and session.display.get("time_known") is False)
                known.add(_vote_key(key, photo, value, None if timeless else when,
                                    session_label(session), condition_text(session.display if session else None)))
            for session in s.scalars(select(RatingSession).where(RatingSession.rater_id.in_(keys.values()))):
                d = session.display or {}
                if "imported" in d:
                    sessions[(session.rater_id, d.get("session"), d.get("condition"), d.get("time_known", True))] = session.id
            raters, photos = set(), set()
            for v in read.votes:
                key = _vote_key(v.rater, v.photo, v.value, v.time, v.session, v.condition)
                raters.add(v.rater)
                photos.add(v.photo)
                if key in known:
                    result.duplicates += 1
                    continue
                known.add(key)
                if v.rater not in keys:
                    rater = Rater(key=v.rater)
                    s.add(rater)
                    s.flush()
                    keys[v.rater] = rater.id
                rater_id = keys[v.rater]
                timed = v.time is not None
                skey = (rater_id, v.session, v.condition, timed)
                if skey not in sessions:
                    display = {"imported": read.layout, "source": source, "session": v.session,
                               "condition": v.condition}
                    if not timed:
                        display["time_known"] = False
                    session = RatingSession(rater_id=rater_id, display=display, started_at=v.time or utcnow())
                    s.add(session)
                    s.flush()
                    sessions[skey] = session.id
                image_id = _image_id(s, v.photo, images)
                kind = v.kind or ("gold" if image_id in gold_ids else "normal")
                s.add(Vote(rater_id=rater_id, image_id=image_id, session_id=sessions[skey], value=v.value, kind=kind,
                           response_ms=v.response_ms, created_at=v.time or utcnow(), withdrawn_at=v.withdrawn))
                result.added += 1
            result.raters, result.photos = len(raters), len(photos)
            result.photos_missing = sum(not os.path.exists(p) for p in photos)
        return result

    return db.run(store)


# --- Writing ----------------------------------------------------------------------------------
def _shown_path(path: str, root: Path | None) -> str:
    if root is not None:
        root_text = str(canonical_path(root))
        if os.path.commonpath([root_text, path]) == root_text:
            return os.path.relpath(path, root_text)
    return path


@contextmanager
def _csv_output(out: str | Path):
    """A CSV writer to ``out``: ``-`` is stdout; a file is written whole (app.core.output_files)."""
    if str(out) == "-":
        yield csv.writer(sys.stdout, lineterminator="\n")
        sys.stdout.flush()
        return
    with written_whole(out, newline="") as f:
        yield csv.writer(f, lineterminator="\n")


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

