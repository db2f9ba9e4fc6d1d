"""Reading every row of a model version (a shared database holds a million) a bounded chunk at a
time: keyset pagination over the primary key.

Why not one SELECT: materialising a million rows as Python objects made the interpreter's
collector pause every thread, the GUI thread included, for 0.6-1.7 s (docs/benchmarks.md). A
chunk's rows are dropped before the next chunk is read, so memory and pauses follow the chunk
size, not the table. Keyset (``id > last ORDER BY id LIMIT n``), never OFFSET: each chunk starts
at an index lookup, where OFFSET rereads every row before it (quadratic over the table)."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.orm import Session

CHUNK_ROWS = 2000  # rows per statement: a few MB even with embeddings, and few enough statements


def keyset(session: Session, query: Select, key: ColumnElement, size: int = CHUNK_ROWS) -> Iterator[list[Row]]:
    """The rows of ``query`` in ``key`` order, at most ``size`` per list. ``query`` selects ``key``
    (a unique, indexed column: the primary key) as its first column; every chunk is read in
    ``session``, so on SQLite they all see one snapshot."""
    if size < 1:
        raise ValueError(f"a chunk needs at least one row, not {size}")
    last = None
    while True:
        page = query if last is None else query.where(key > last)
        rows = session.execute(page.order_by(key).limit(size)).all()
        if rows:
            yield rows
        if len(rows) < size:  # a short chunk is the last: no statement only to learn there is no more
            return
        last = rows[-1][0]


def unindexed(column: ColumnElement) -> ColumnElement:
    """``column + 0``: the same values, but no index answers a filter on it. A chunk's filter on the
    model version otherwise leads SQLite to the (version, score) index, whose rows it must then
    sort by id, all of the version's rows for every chunk (39 s instead of 3 s to choose among
    200,000 scores); on it, the planner walks the primary key in order and stops at the chunk's
    last row, on SQLite and PostgreSQL alike."""
    return column + 0
