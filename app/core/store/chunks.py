"""Reading every row of a model version (a shared database holds a million) a bounded chunk at a
time: keyset pagination over the primary key.

Why not one SELECT: materialising a million rows as Python objects made the interpreter's
collector pause every thread, the GUI thread included, for 0.6-1.7 s (docs/benchmarks.md). A
full collection walks every object of the process, and it comes sooner the more objects outlive
the youngest generation. So a chunk's rows are handed out one at a time, as the cursor gives
them, each gone before the next (consumers keep what they need in flat lists or arrays): memory
follows the chunk size, not the table, and almost nothing lives long enough to be promoted.
Keyset (``id > last ORDER BY id LIMIT n``), never OFFSET: each chunk starts at an index lookup,
where OFFSET rereads every row before it (quadratic over the table)."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import ColumnElement, Row, Select
from sqlalchemy.orm import Session

CHUNK_ROWS = 2000  # rows per statement: a few MB even with embeddings, and few enough statements
PATHS_PER_QUERY = 500  # values in one IN (...): well under SQLite's limit on a statement's parameters


def keyset(session: Session, query: Select, key: ColumnElement, size: int = CHUNK_ROWS) -> Iterator[Iterator[Row]]:
    """The rows of ``query`` in ``key`` order, one statement of at most ``size`` rows per chunk.
    ``query`` selects ``key`` (a unique, indexed column: the primary key) as its first column;
    every chunk is read in ``session``, so on SQLite they all see one snapshot.

    Each chunk is an iterator over its statement's rows: consume it whole, and before writing in
    ``session`` (the next chunk starts after its last row; a write while SQLite's cursor is open
    would change rows under it)."""
    if size < 1:
        raise ValueError(f"a chunk needs at least one row, not {size}")
    walked = {"last": None, "rows": size}
    while walked["rows"] == size:  # a short chunk is the last: no statement only to learn there is no more
        page = query if walked["last"] is None else query.where(key > walked["last"])
        walked["rows"] = 0
        yield _rows(session.execute(page.order_by(key).limit(size)), walked)


def _rows(result, walked: dict) -> Iterator[Row]:
    for row in result:
        walked["last"], walked["rows"] = row[0], walked["rows"] + 1
        yield row


def unindexed(column: ColumnElement) -> ColumnElement:
    """``column + 0``: the same values, but no index answers a filter on it. A chunk's filter on the
    model version otherwise leads SQLite to the (version, score) index, whose rows it must then
    sort by id, all of the version's rows for every chunk (39 s instead of 3 s to choose among
    200,000 scores); on it, the planner walks the primary key in order and stops at the chunk's
    last row, on SQLite and PostgreSQL alike."""
    return column + 0
