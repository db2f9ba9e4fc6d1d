"""Ratings into the database (Qt-free): the votes of a ratings file (read by
app.core.ratings.votes_file, whose docstring lists the layouts) stored.
Their way out (CSV of raw votes, the site's MOS and rater screening) is app.core.ratings.csv_export.

Imported votes are stored as raw votes exactly like the labeling panel's (rater, photo, session,
value, kind, time), each in a rating session that records where it came from; nothing stored is
ever overwritten, and importing the same file twice adds nothing the second time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, tuple_

from ..store.database import Database
from ..store.schema import GoldImage, Image, Rater, RatingSession, Vote, utcnow
from .import_ledger import begin_import, file_fingerprint, finish_import, record_votes
from .votes_file import CsvVote, RatingsFileError, open_votes, read_gold_csv

SOURCE = "ratings-import"  # Image.source of a photo first seen in an imported file
# Votes written per transaction: a million-row file is a hundred short transactions, never one
# that locks the database for minutes, and never more than this many rows in memory.
CHUNK_ROWS = 10_000
IN_LIST = 400  # values (or pairs) per SQL IN list: older SQLite builds allow 999 bound parameters


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
