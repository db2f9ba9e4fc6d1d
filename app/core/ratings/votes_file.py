"""A ratings file read as votes (Qt-free): its layout detected from the header, every row checked
and either a vote or a skipped line with its reason, streamed with bounded memory. Storing them
is app.core.ratings.csv_import's.

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

from ..imageio.file_names import canonical_path, storable_path
from ..outputs.scores_csv import from_spreadsheet_safe

VOTE_COLUMNS = ["rater", "photo", "vote", "time", "session", "condition", "kind", "response_ms", "withdrawn"]
GOLD_COLUMNS = ["photo", "expected", "tolerance"]
KINDS = ("normal", "gold", "training")
LAYOUTS = ("mobileiqa", "avrateng", "p808")
SKIPPED_KEPT = 20  # skipped rows whose line and reason are kept (the rest are counted)


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
