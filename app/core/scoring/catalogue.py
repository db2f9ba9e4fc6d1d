"""A scored photo and the catalogue (the database): a stored result reused while the file is
unchanged, and a new result stored with the gallery's thumbnail. Qt-free, so the folder and
camera workers share it and it is tested without a window."""
from __future__ import annotations

from pathlib import Path

from ..imageio.decode import ImageLoadError, load_preview_rgb
from ..imageio.thumbnail import thumbnail_jpeg
from ..store.database import Database
from ..store.repository import ScoreRecord, record_score
from ..store.thumbnails import store_thumbnail, stored_thumbnail
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
