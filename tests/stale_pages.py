"""An SQLite file in which some pages were put back from an older copy of it: what a disk that
lost writes, or a copy or restore gone wrong, leaves. Every page is well formed (PRAGMA
quick_check passes); only matching each index against its table shows the file no longer holds
together. Shared by the store's tests, the window's and the fault suite's."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def index_root_pages(path: Path, table: str) -> list[int]:
    """The root page of each index the schema declares on ``table`` (not SQLite's automatic ones)."""
    with sqlite3.connect(path) as c:
        return [page for (page,) in c.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]


def put_back_older_pages(path: Path, older: bytes, pages: list[int]) -> None:
    """Overwrite ``pages`` of the file at ``path`` (closed, its WAL folded in) with their bytes in ``older``."""
    with sqlite3.connect(path) as c:
        size = c.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    for page in pages:
        data[(page - 1) * size:page * size] = older[(page - 1) * size:page * size]
    path.write_bytes(bytes(data))


def station_file_with_stale_index_pages(path: Path) -> bytes:
    """A station's file made by the app's store (20 scores, stored in two sittings), then the
    root pages of the scores table's three indexes put back as they were after the first ten.
    Returns the damaged file's bytes."""
    from app.core.store import open_database
    from app.core.store.repository import ScoreRecord, record_score, register_model

    def store(numbers) -> None:  # closed each time, so the WAL is folded into the file
        db = open_database(path)
        mv = register_model(db, {"name": "m", "version": "1", "sha256": "e" * 64}, "/m.onnx")
        for i in numbers:
            record_score(db, mv, ScoreRecord(f"/archive/{i:03d}.jpg", "ok", 50.0 + i, [50.0, 50.0, 50.0]))
        db.close()

    store(range(10))
    older = path.read_bytes()
    store(range(10, 20))
    indexes = index_root_pages(path, "scores")
    assert len(indexes) == 3, indexes
    put_back_older_pages(path, older, indexes)
    quick, whole = integrity(path)
    assert quick == "ok" and whole != "ok", (quick, whole)  # the damage meant: invisible to quick_check
    return path.read_bytes()


def integrity(path: Path) -> tuple[str, str]:
    """(quick_check, integrity_check) of the file, each its first line."""
    with sqlite3.connect(path) as c:
        return (c.execute("PRAGMA quick_check").fetchone()[0], c.execute("PRAGMA integrity_check").fetchone()[0])
