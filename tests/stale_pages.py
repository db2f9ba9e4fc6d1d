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


def integrity(path: Path) -> tuple[str, str]:
    """(quick_check, integrity_check) of the file, each its first line."""
    with sqlite3.connect(path) as c:
        return (c.execute("PRAGMA quick_check").fetchone()[0], c.execute("PRAGMA integrity_check").fetchone()[0])
