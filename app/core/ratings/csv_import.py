"""Ratings into the database (Qt-free): raw votes read from CSV files and stored.
Their way out (CSV of raw votes, the site's MOS and rater screening) is app.core.ratings.csv_export.

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

Photos are stored under their canonical absolute path (app.core.scoring.photo.canonical_path); a
relative path resolves against ``root`` or, without one, the CSV's own folder.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, tuple_

from ..imageio.file_names import canonical_path, storable_path
from ..outputs.scores_csv import from_spreadsheet_safe
from ..store.database import Database
from ..store.schema import GoldImage, Image, Rater, RatingSession, Vote, utcnow
from .import_ledger import begin_import, file_fingerprint, finish_import, record_votes

VOTE_COLUMNS = ["rater", "photo", "vote", "time", "session", "condition", "kind", "response_ms", "withdrawn"]
GOLD_COLUMNS = ["photo", "expected", "tolerance"]
KINDS = ("normal", "gold", "training")
LAYOUTS = ("mobileiqa", "avrateng", "p808")
SOURCE = "ratings-import"  # Image.source of a photo first seen in an imported file
# Votes written per transaction: a million-row file is a hundred short transactions, never one
# that locks the database for minutes, and never more than this many rows in memory.
CHUNK_ROWS = 10_000
SKIPPED_KEPT = 20  # skipped rows whose line and reason are kept (the rest are counted)
IN_LIST = 400  # values (or pairs) per SQL IN list: older SQLite builds allow 999 bound parameters


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
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why) of the first SKIPPED_KEPT
    skipped_rows: int = 0  # all of them: a file of a million bad rows must not keep a million reasons
    other_rows: int = 0  # rows of a layout that are not votes (avrateNG's other rating types)

    def skip(self, line: int, why: str) -> None:
        self.skipped_rows += 1
        if len(self.skipped) < SKIPPED_KEPT:
            self.skipped.append((line, why))


@dataclass
class ImportResult:
    layout: str
    added: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # the first SKIPPED_KEPT
    skipped_rows: int = 0
    other_rows: int = 0
    resumed_votes: int | None = None  # a rerun of an import that stopped part-way: what it had stored
    raters: int = 0
    photos: int = 0
    photos_missing: int = 0  # not found on this station's disk (votes stored all the same)
    gold_added: int = 0
    gold_kept: list[str] = field(default_factory=list)  # gold answers that differ from the stored ones

    def text(self) -> str:
        parts = [f"{self.added} vote(s) imported ({self.layout} layout) from {self.raters} rater(s) on "
                 f"{self.photos} photo(s)", f"{self.duplicates} already in the database"]
        if self.skipped_rows:
            parts.append(f"{self.skipped_rows} row(s) skipped")
        if self.other_rows:
            parts.append(f"{self.other_rows} row(s) that are not ACR votes left out")
        if self.gold_added:
            parts.append(f"{self.gold_added} gold answer(s) added")
        text = ", ".join(parts)
        if self.photos_missing:
            text += f"; {self.photos_missing} photo(s) are not on this station's disk (check --root)"
        return text


# --- Reading ----------------------------------------------------------------------------------
# A vote's time outside these years is a broken field, not a vote (and 1e20 seconds, or year 1
# with an offset, overflow Python's datetime on the way to UTC).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2200
MAX_RESPONSE_MS = 24 * 3600 * 1000
MAX_LINE_BYTES = 1 << 20  # no vote row is a megabyte long: a longer line is not read into memory
MAX_FIELD_BYTES = 64 << 10
MAX_RATER_CHARS = 255  # the database's column


def parse_time(text: str) -> datetime:
    """ISO 8601 (with ``Z``, an offset or neither), avrateNG's ``%Y-%m-%d %H:%M:%S %f``, or Unix
    seconds; returned as naive UTC (a time without a zone is taken as it is). A time outside the
    years 1970-2200 is refused."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    try:
        if seconds is not None:
            when = datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
        else:
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                try:
                    when = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %f")
                except ValueError:
                    raise ValueError(f"time {text[:40]!r} is neither ISO 8601 nor Unix seconds") from None
            when = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    except (OverflowError, OSError, ValueError) as exc:
        if isinstance(exc, ValueError) and "neither" in str(exc):
            raise
        raise ValueError(f"time {text[:40]!r} is out of range") from None
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        raise ValueError(f"time {text[:40]!r} is outside the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return when


def parse_response_ms(text: str) -> int | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"response_ms {text[:20]!r} is not a number") from None
    if not 0 <= value <= MAX_RESPONSE_MS:  # also NaN and infinity
        raise ValueError(f"response_ms {text[:20]!r} is not a time from 0 to 24 hours")
    return int(value)


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
    """The canonical absolute path of a photo named in a CSV (relative to ``base``). Refused: a
    name that is not a photo's (``/etc/shadow``), a relative path that climbs out of ``base``, a
    path that is there but no regular file (a folder, ``/dev/zero``); the database's own file is
    no photo by its name. A photo not on this disk is kept (votes may come from elsewhere)."""
    from ...sources.folder import IMAGE_SUFFIXES

    text = text.strip()
    if not text:
        raise ValueError("no photo")
    path = Path(text).expanduser()
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{text[:80]!r} is not the name of a photo")
    if not path.is_absolute():
        if ".." in path.parts and not os.path.normpath(base / path).startswith(os.path.normpath(base) + os.sep):
            raise ValueError(f"{text[:80]!r} lies outside the folder photo paths start from")
        path = base / path
    stored = storable_path(canonical_path(path))
    if stored is None:
        raise ValueError("the photo's path is not valid UTF-8")
    if os.path.lexists(stored) and not os.path.isfile(stored):
        raise ValueError(f"{text[:80]!r} is not a regular file")
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


def _bounded_lines(f, path: Path):
    """The file's lines, refusing (RatingsFileError) a line longer than MAX_LINE_BYTES before it
    is read whole: a 2 GB line must not need 2 GB of memory."""
    number = 0
    while line := f.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith("\n"):
            raise RatingsFileError(f"{path}, line {number}: longer than {MAX_LINE_BYTES >> 20} MB; not a ratings file")
        yield line


def _rows(path: Path) -> tuple[list[str], csv.DictReader]:
    try:
        if not path.is_file():
            raise FileNotFoundError(path) if not path.exists() else IsADirectoryError(f"{path} is not a regular file")
        f = open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise RatingsFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise RatingsFileError(f"{path}: cannot be read ({exc})") from None
    lines = _bounded_lines(f, path)
    try:
        first = next(lines, "")
    except UnicodeDecodeError as exc:
        raise RatingsFileError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
    if not first.strip():
        raise RatingsFileError(f"{path}: empty")
    delimiter = max(",;\t", key=first.count)
    reader = csv.DictReader(_chain_first(first, lines, f), delimiter=delimiter)
    header = reader.fieldnames or []
    reader.fieldnames = [h.strip().lower() for h in header]
    return header, reader


def _chain_first(first: str, rest, f):
    yield first
    try:
        yield from rest
    finally:
        f.close()


def _checked_rows(reader: csv.DictReader, path: Path):
    """The reader's rows; a file the csv module cannot parse (a field over its size limit, a
    stray NUL) or that is not UTF-8 is refused as a whole, with the line that breaks it."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise RatingsFileError(f"{path}, line {reader.line_num}: not a ratings file ({exc})") from None
        except UnicodeDecodeError as exc:
            raise RatingsFileError(f"{path}: cannot be read as UTF-8 text ({exc})") from None
        if any(len(v) > MAX_FIELD_BYTES for v in row.values() if isinstance(v, str)):
            raise RatingsFileError(f"{path}, line {reader.line_num}: a field longer than {MAX_FIELD_BYTES >> 10} KB; "
                                   "not a ratings file")
        yield row


def open_votes(path: str | Path, root: str | Path | None = None, rater_prefix: str = ""):
    """The file's layout (a ReadResult without votes, which counts the rows left out as they are
    read) and an iterator over its votes, read lazily: a file of any length is never in memory
    whole. A file that is no votes file at all is refused here (RatingsFileError), before a row."""
    path = Path(path)
    base = Path(root) if root is not None else path.resolve().parent
    header, reader = _rows(path)
    tally = ReadResult(_layout(header))
    return tally, _votes(reader, path, base, rater_prefix, tally)


def read_votes_csv(path: str | Path, root: str | Path | None = None, rater_prefix: str = "") -> ReadResult:
    """Every vote of a CSV in one of the LAYOUTS, with the first rows that could not be read and
    why (a small file's view; ``import_votes`` streams instead)."""
    tally, votes = open_votes(path, root, rater_prefix)
    tally.votes = list(votes)
    return tally


def _votes(reader: csv.DictReader, path: Path, base: Path, rater_prefix: str, result: ReadResult):
    for row in _checked_rows(reader, path):
        line = reader.line_num
        get = lambda name: (row.get(name) or "").strip()  # noqa: E731
        try:
            if result.layout == "mobileiqa":  # our own export: its cells were made spreadsheet-safe
                get = lambda name: from_spreadsheet_safe((row.get(name) or "").strip())  # noqa: E731
                kind = get("kind") or None
                if kind is not None and kind not in KINDS:
                    raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
                ms = parse_response_ms(get("response_ms"))
                vote = CsvVote(line, get("rater"), resolve_photo(get("photo"), base), _acr(get("vote")),
                               parse_time(get("time")) if get("time") else None, get("session") or None,
                               get("condition") or None, kind, ms,
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
            result.skip(line, str(exc))
            continue
        if not vote.rater:
            result.skip(line, "no rater")
            continue
        if len(rater_prefix + vote.rater) > MAX_RATER_CHARS:
            result.skip(line, f"a rater id longer than {MAX_RATER_CHARS} characters")
            continue
        yield replace(vote, rater=rater_prefix + vote.rater)


def read_gold_csv(path: str | Path, root: str | Path | None = None) -> dict[str, tuple[int, int]]:
    """``photo,expected[,tolerance]`` (tolerance 1 by default) -> photo: (expected, tolerance)."""
    path = Path(path)
    base = Path(root) if root is not None else path.resolve().parent
    _, reader = _rows(path)
    if not {"photo", "expected"} <= set(reader.fieldnames or []):
        raise RatingsFileError(f"{path}: a gold file needs the columns photo, expected (and tolerance)")
    gold = {}
    for row in _checked_rows(reader, path):
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


def _in_slices(values):
    values = list(values)
    for i in range(0, len(values), IN_LIST):
        yield values[i:i + IN_LIST]


def _ids_by_key(s, model, column, wanted: set[str], **new_fields) -> dict[str, int]:
    """``{key: id}`` of the rows of ``model`` whose ``column`` is one of ``wanted``, adding the
    missing ones."""
    ids = {}
    for part in _in_slices(wanted):
        ids.update(s.execute(select(column, model.id).where(column.in_(part))).all())
    for key in sorted(wanted - ids.keys()):
        row = model(**{column.key: key}, **new_fields)
        s.add(row)
        s.flush()
        ids[key] = row.id
    return ids


def _known_votes(s, pairs: set[tuple[int, int]]) -> set[tuple]:
    """The duplicate keys (by ids) of the stored votes of these (rater, photo) pairs."""
    known = set()
    for part in _in_slices(pairs):
        rows = s.execute(select(Vote.rater_id, Vote.image_id, Vote.value, Vote.created_at, RatingSession)
                         .outerjoin(RatingSession, RatingSession.id == Vote.session_id)
                         .where(tuple_(Vote.rater_id, Vote.image_id).in_(part)))
        for rater_id, image_id, value, when, session in rows:
            timeless = bool(session and session.display and session.display.get("time_known") is False)
            known.add(_vote_key(rater_id, image_id, value, None if timeless else when,
                                session_label(session), condition_text(session.display if session else None)))
    return known


def _imported_sessions(s, rater_ids) -> dict[tuple, int]:
    sessions = {}
    for part in _in_slices(rater_ids):
        for session in s.scalars(select(RatingSession).where(RatingSession.rater_id.in_(part))):
            d = session.display or {}
            if "imported" in d:
                sessions[(session.rater_id, d.get("session"), d.get("condition"), d.get("time_known", True))] = session.id
    return sessions


def store_chunk(s, votes: list[CsvVote], layout: str, source: str) -> tuple[int, int]:
    """Store the votes not stored yet (earlier chunks of the same file included), inside the
    caller's transaction; (added, duplicates). Everything it looks up it looks up again: a retried
    transaction must not trust ids from one that was rolled back."""
    raters = _ids_by_key(s, Rater, Rater.key, {v.rater for v in votes})
    images = _ids_by_key(s, Image, Image.path, {v.photo for v in votes}, source=SOURCE)
    gold_ids = set(s.scalars(select(GoldImage.image_id)))
    known = _known_votes(s, {(raters[v.rater], images[v.photo]) for v in votes})
    sessions = _imported_sessions(s, set(raters.values()))
    rows, duplicates = [], 0
    for v in votes:
        rater_id, image_id = raters[v.rater], images[v.photo]
        key = _vote_key(rater_id, image_id, v.value, v.time, v.session, v.condition)
        if key in known:
            duplicates += 1
            continue
        known.add(key)
        timed = v.time is not None
        skey = (rater_id, v.session, v.condition, timed)
        if skey not in sessions:
            display = {"imported": layout, "source": source, "session": v.session, "condition": v.condition}
            if not timed:
                display["time_known"] = False
            session = RatingSession(rater_id=rater_id, display=display, started_at=v.time or utcnow())
            s.add(session)
            s.flush()
            sessions[skey] = session.id
        rows.append({"rater_id": rater_id, "image_id": image_id, "session_id": sessions[skey], "value": v.value,
                     "kind": v.kind or ("gold" if image_id in gold_ids else "normal"), "response_ms": v.response_ms,
                     "created_at": v.time or utcnow(), "withdrawn_at": v.withdrawn})
    if rows:
        s.execute(insert(Vote), rows)  # one executemany, not a million ORM objects
    return len(rows), duplicates


def _store_gold(s, gold: dict[str, tuple[int, int]], result: ImportResult) -> None:
    images = _ids_by_key(s, Image, Image.path, set(gold), source=SOURCE)
    for photo, (expected, tolerance) in gold.items():
        existing = s.get(GoldImage, images[photo])
        if existing is None:
            s.add(GoldImage(image_id=images[photo], expected=expected, tolerance=tolerance))
            result.gold_added += 1
        elif (existing.expected, existing.tolerance) != (expected, tolerance):
            result.gold_kept.append(photo)


def _chunks(votes, size: int):
    chunk = []
    for vote in votes:
        chunk.append(vote)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_votes(db: Database, path: str | Path, root: str | Path | None = None, gold_path: str | Path | None = None,
                 rater_prefix: str = "") -> ImportResult:
    """Store every vote of ``path`` not already stored, streaming the file in transactions of
    CHUNK_ROWS votes. Resumable, not all-or-nothing: a stop part-way keeps the chunks stored and
    leaves the import unfinished in the ledger (app.core.ratings.import_ledger); importing the
    same file again skips what is stored (each vote is recognised by rater, photo, vote, time,
    session and condition) and completes it. The gold answers go in the first transaction."""
    path = Path(path)
    gold = read_gold_csv(gold_path, root) if gold_path is not None else {}
    tally, votes = open_votes(path, root, rater_prefix)
    fingerprint = file_fingerprint(path)
    result = ImportResult(tally.layout)
    raters, photos = set(), set()  # distinct ones, for the summary (not rows: bounded by the site)
    import_id = None

    def begin() -> int:
        result.gold_added, result.gold_kept = 0, []  # a retried transaction counts afresh
        with db.session() as s:
            _store_gold(s, gold, result)
            import_id, result.resumed_votes = begin_import(s, path.name, fingerprint)
        return import_id

    def store(chunk: list[CsvVote]) -> tuple[int, int]:
        with db.session() as s:
            added, duplicates = store_chunk(s, chunk, tally.layout, path.name)
            record_votes(s, import_id, added)
        return added, duplicates

    for chunk in _chunks(votes, CHUNK_ROWS):
        if import_id is None:
            import_id = db.run(begin)
        added, duplicates = db.run(store, chunk)
        result.added += added
        result.duplicates += duplicates
        raters.update(v.rater for v in chunk)
        photos.update(v.photo for v in chunk)
    if import_id is None:
        if not gold:
            raise RatingsFileError(f"{path}: no vote could be read" + (
                f" (first problem, line {tally.skipped[0][0]}: {tally.skipped[0][1]})" if tally.skipped else ""))
        db.run(begin)

    def finish() -> None:
        with db.session() as s:
            finish_import(s, fingerprint)

    db.run(finish)
    result.skipped, result.skipped_rows, result.other_rows = tally.skipped, tally.skipped_rows, tally.other_rows
    result.raters, result.photos = len(raters), len(photos)
    result.photos_missing = sum(not os.path.exists(p) for p in photos)
    return result
