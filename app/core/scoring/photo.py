"""Score a batch of photos into the database: decode, score, store, one photo at a time.

Nothing a photo does stops the batch: every failure becomes a row with its status and message.
Each photo is committed on its own (a short transaction), so a killed batch loses at most the
photo in flight. A photo is its file's canonical path; a rerun skips what is scored and
unchanged (same content hash) and tries again what failed or changed (no duplicates).
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..imageio.decode import DECODE_PIXELS, ImageLoadError, load_rgb, read_bytes
from ..imageio.exif import CameraSettings
from ..imageio.file_names import canonical_path, printable_path, storable_path
from ..store.database import Database
from ..store.faults import StoreError
from ..store.repository import ScoreRecord, record_score, stored_ok
from .engine import Engine, ScoreResult


@dataclass(frozen=True)
class PhotoOutcome:
    record: ScoreRecord  # what is stored
    rgb: np.ndarray | None = None  # the decoded photo (for thumbnails and overlays)
    result: ScoreResult | None = None  # the maps (not stored)
    exif: CameraSettings | None = None  # how it was taken, for the viewer's caption (read on request)


def stored_unchanged(path: Path, known: dict[str, tuple[str | None, ScoreRecord]]) -> tuple[ScoreRecord, bytes] | None:
    """The stored result and the file's bytes when this model scored exactly these bytes (the
    content hash decides: a file replaced with one of the same name and size is scored again)."""
    entry = known.get(str(path))
    if entry is None:
        return None
    try:
        data = read_bytes(path)
    except ImageLoadError:
        return None  # vanished or unreadable now: scoring says why
    return (entry[1], data) if hashlib.sha256(data).hexdigest() == entry[0] else None


def score_photo(engine: Engine, path: Path, source: str = "folder", decode_pixels: int = DECODE_PIXELS) -> PhotoOutcome:
    """Decode and score one photo (stored under its canonical path); never raises. At most
    ``decode_pixels`` are decoded (load_rgb): an archive worker lowers it to its memory limit."""
    path = canonical_path(path)
    key = storable_path(path)
    if key is None:  # kept, listed and explained, never a crash of the batch
        shown = printable_path(path)
        return PhotoOutcome(ScoreRecord(shown, "bad_name", error=f"{Path(shown).name}: the file name is not valid "
                                        "UTF-8 text, so it cannot be stored or shown; rename the file", source=source))
    try:
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        rgb = load_rgb(path, data=data, decode_pixels=decode_pixels)
    except ImageLoadError as exc:
        return PhotoOutcome(ScoreRecord(key, exc.kind, error=str(exc), source=source))
    common = dict(content_hash=digest, size_bytes=len(data), height=rgb.shape[0], width=rgb.shape[1], source=source)
    try:
        result = engine.score(rgb)
    except ValueError as exc:  # e.g. smaller than the model's minimum side
        return PhotoOutcome(ScoreRecord(key, "unsupported", error=f"{path.name}: {exc}", **common), rgb)
    except Exception as exc:  # ONNX Runtime failures (out of memory, ...): reported, batch goes on
        return PhotoOutcome(ScoreRecord(key, "model_error", error=f"{path.name}: scoring failed ({exc})", **common), rgb)
    record = ScoreRecord(key, "ok", result.score, [float(o) for o in result.opinions], result.seconds,
                         raw_score=result.raw_score, embedding=[float(e) for e in result.embedding],
                         pooled_stages=result.pooled_stages, **common)
    return PhotoOutcome(record, rgb, result)


@dataclass
class BatchSummary:
    total: int = 0
    scored: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: bool = False
    error: str | None = None  # a database problem that stopped the batch; what was stored is kept


LOOKUP_CHUNK = 500  # stored rows are looked up for this many photos at a time, never all at once


def _with_stored(paths: list, db: Database, model_version_id: int, skip_done: bool):
    """(canonical path, stored rows of its chunk) for each photo: a shared database may hold a
    million rows of this model, and a batch needs only its own."""
    for start in range(0, len(paths), LOOKUP_CHUNK):
        chunk = [canonical_path(p) for p in paths[start:start + LOOKUP_CHUNK]]
        keys = [k for k in map(storable_path, chunk) if k is not None]
        known = db.run(stored_ok, db, model_version_id, keys) if skip_done and keys else {}
        for path in chunk:
            yield path, known


def score_batch(
    paths: Iterable[Path],
    engine: Engine,
    db: Database,
    model_version_id: int,
    skip_done: bool = True,
    cancel: threading.Event | None = None,
    progress: Callable[[BatchSummary, ScoreRecord], None] | None = None,
    source: str = "folder",
    decode_pixels: int = DECODE_PIXELS,
) -> BatchSummary:
    """Score ``paths`` into the database. A database problem that outlasts the retries while
    storing stops the batch (``summary.error``); one before the first photo raises StoreError."""
    paths = list(paths)
    summary = BatchSummary(total=len(paths))
    # Skipped: what this model scored and is unchanged since; what failed or changed is tried again.
    for path, known in _with_stored(paths, db, model_version_id, skip_done):
        if cancel is not None and cancel.is_set():
            summary.cancelled = True
            break
        if known and stored_unchanged(path, known) is not None:
            summary.skipped += 1
            continue
        record = score_photo(engine, path, source, decode_pixels).record
        try:  # retried while the problem is transient (a lock, a server restart); an upsert, so safe
            db.run(record_score, db, model_version_id, record)
        except StoreError as exc:  # permanent, or outlasted the retries: stop, keep what is stored
            summary.error = str(exc)
            break
        if record.status == "ok":
            summary.scored += 1
        else:
            summary.failed += 1
        if progress is not None:
            progress(summary, record)
    return summary
