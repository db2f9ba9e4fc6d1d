"""A scored photo and the catalogue (the database): a stored result reused while the file is
unchanged, and a new result stored with the gallery's thumbnail. Qt-free, so the folder and
camera workers share it and it is tested without a window."""
from __future__ import annotations

import hashlib
from pathlib import Path

from ..imageio.decode import ImageLoadError, load_preview_rgb, read_bytes
from ..imageio.thumbnail import THUMB_SIDE, thumbnail_jpeg, thumbnail_side
from ..store.database import Database
from ..store.repository import ScoreRecord, record_score
from ..store.thumbnails import store_thumbnail, stored_content_hash, stored_thumbnail
from .photo import PhotoOutcome, stored_unchanged


def store_scored(db: Database, model_version_id: int, outcome: PhotoOutcome, keep_thumbnail: bool = True) -> bytes | None:
    """Store a scored photo under the model (its verdict by the thresholds in force) and return its
    thumbnail. The thumbnail is kept for the next opening of the folder (or of a camera batch)
    only for a photo that scored ``ok`` and when ``keep_thumbnail``."""
    # Retried while the problem is transient (a lock, a server restart): an upsert, so safe to redo.
    db.run(record_score, db, model_version_id, outcome.record)
    thumb = thumbnail_jpeg(outcome.rgb) if outcome.rgb is not None else None
    if keep_thumbnail and outcome.record.status == "ok":
        db.run(store_thumbnail, db, outcome.record.path, outcome.record.content_hash, thumb)
    return thumb


def already_scored(db: Database, path: Path, known: dict) -> tuple[ScoreRecord, bytes] | None:
    """The stored result and its thumbnail when this model scored exactly these bytes: the
    thumbnail stored with this content, else drawn from a quick preview and stored."""
    stored = stored_unchanged(path, known)
    if stored is None:
        return None
    record = stored[0]
    thumb = db.run(stored_thumbnail, db, record.path, record.content_hash)
    if thumb is not None:
        return record, thumb
    try:
        thumb = thumbnail_jpeg(load_preview_rgb(path, stored[1]))
    except ImageLoadError:
        return None  # no longer decodes: scoring reports why
    db.run(store_thumbnail, db, record.path, record.content_hash, thumb)
    return record, thumb


def full_size_thumbnail(db: Database, path: str) -> bytes | None:
    """A THUMB_SIDE thumbnail for a photo whose stored one is smaller (kept at 128 px before
    thumbnails were made at the gallery's largest size), drawn again from the file and stored in
    its place. Only while the file holds the content stored: None when it changed, vanished or
    no longer decodes (scoring it again makes its thumbnail), or was never stored."""
    content_hash = db.run(stored_content_hash, db, path)
    if content_hash is None:
        return None
    stored = db.run(stored_thumbnail, db, path, content_hash)
    if stored is not None and thumbnail_side(stored) >= THUMB_SIDE:
        return stored  # made meanwhile (another station, or an earlier ask)
    try:
        data = read_bytes(Path(path))
        if hashlib.sha256(data).hexdigest() != content_hash:
            return None
        thumb = thumbnail_jpeg(load_preview_rgb(path, data))
    except ImageLoadError:
        return None
    db.run(store_thumbnail, db, path, content_hash, thumb, replace=True)
    return thumb
