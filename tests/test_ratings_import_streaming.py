"""``ratings import`` of a large file: the file is streamed (never all its rows in memory) and
written in bounded transactions of CHUNK_ROWS votes; a file stopped part-way (a crash, Ctrl+C) is
recorded as unfinished, said so by ``ratings mos``, and a rerun of the same file finishes it with
exactly one import's votes: none twice, none lost."""
import sqlite3

import pytest
from sqlalchemy import event

from app.__main__ import main
from app.core.ratings import csv_import, votes_file
from app.core.ratings.csv_import import import_votes
from app.core.store import open_database

ROWS, CHUNK = 3000, 500


def _votes_csv(path, rows=ROWS):
    with open(path, "w", encoding="utf-8") as f:
        f.write("rater,photo,vote,time\n")
        for i in range(rows):
            f.write(f"r{i % 37},p{i % 101}.jpg,{1 + i % 5},{1704067200 + i}\n")
    return path


def _count(db_path, sql="select count(*) from votes"):
    with sqlite3.connect(db_path) as c:
        return c.execute(sql).fetchone()[0]


def _stored(conn):
    return conn.exec_driver_sql("select count(*) from votes").scalar()


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", CHUNK, raising=False)  # absent before streaming


def _interrupt_reading_at(monkeypatch, row):
    """Ctrl+C while the file's ``row``-th photo is read."""
    real, calls = votes_file.resolve_photo, [0]

    def resolve(text, base):
        calls[0] += 1
        if calls[0] == row:
            raise KeyboardInterrupt
        return real(text, base)

    monkeypatch.setattr(votes_file, "resolve_photo", resolve)
    return calls


def test_no_transaction_writes_more_than_one_chunk_of_votes(tmp_path, small_chunks):
    db = open_database(tmp_path / "a.db")
    written, stored = [], [0]

    @event.listens_for(db.engine, "commit")
    def committed(conn):  # the votes each transaction added, counted just before it commits
        now = _stored(conn)
        written.append(now - stored[0])
        stored[0] = now

    try:
        assert import_votes(db, _votes_csv(tmp_path / "v.csv")).added == ROWS
    finally:
        db.close()
    assert sum(written) == ROWS and max(written) == CHUNK


def test_the_first_chunk_is_stored_before_the_file_is_read_further(tmp_path, small_chunks, monkeypatch):
    rows_read = _interrupt_reading_at(monkeypatch, row=-1)  # never interrupts: counts the rows read
    db = open_database(tmp_path / "a.db")
    read_at_first_commit = []

    @event.listens_for(db.engine, "commit")
    def committed(conn):
        if not read_at_first_commit and _stored(conn):
            read_at_first_commit.append(rows_read[0])

    try:
        import_votes(db, _votes_csv(tmp_path / "v.csv"))
    finally:
        db.close()
    assert read_at_first_commit and read_at_first_commit[0] <= CHUNK + 1


def test_a_stop_part_way_is_flagged_and_a_rerun_finishes_it_once(tmp_path, small_chunks, monkeypatch, capsys):
    votes, db_path = _votes_csv(tmp_path / "v.csv"), tmp_path / "a.db"
    undo = monkeypatch.context()
    with undo as m:
        _interrupt_reading_at(m, row=2 * CHUNK + 123)
        with pytest.raises(KeyboardInterrupt):
            main(["ratings", "--db", str(db_path), "import", str(votes)])
    assert _count(db_path) == 2 * CHUNK  # the chunks stored before the stop stand ...
    capsys.readouterr()
    assert main(["ratings", "--db", str(db_path), "mos"]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "v.csv" in line]
    assert len(warning) == 1 and "stopped part-way" in warning[0] and f"{2 * CHUNK} vote(s)" in warning[0]

    assert main(["ratings", "--db", str(db_path), "import", str(votes)]) == 0  # ... and the rerun finishes it
    err = capsys.readouterr().err.splitlines()
    assert any("resuming" in line and "v.csv" in line for line in err)
    assert f"{ROWS - 2 * CHUNK} vote(s) imported" in err[-1] and f"{2 * CHUNK} already in the database" in err[-1]
    assert _count(db_path) == ROWS
    assert _count(db_path, "select count(*) from (select distinct rater_id, image_id, value, created_at from votes)") == ROWS
    assert main(["ratings", "--db", str(db_path), "mos"]) == 0
    assert "stopped part-way" not in capsys.readouterr().err


def test_a_database_error_in_a_chunk_keeps_the_chunks_before_and_the_rerun_adds_the_rest(tmp_path, small_chunks,
                                                                                       monkeypatch):
    votes, db = _votes_csv(tmp_path / "v.csv"), open_database(tmp_path / "a.db")
    chunks, real = [0], csv_import.store_chunk

    def failing(*args, **kwargs):
        chunks[0] += 1
        if chunks[0] == 3:
            raise RuntimeError("disk pulled")
        return real(*args, **kwargs)

    try:
        with monkeypatch.context() as m:
            m.setattr(csv_import, "store_chunk", failing)
            with pytest.raises(RuntimeError):
                import_votes(db, votes)
        assert _count(tmp_path / "a.db") == 2 * CHUNK
        result = import_votes(db, votes)
    finally:
        db.close()
    assert (result.added, result.duplicates, result.resumed_votes) == (ROWS - 2 * CHUNK, 2 * CHUNK, 2 * CHUNK)
    assert _count(tmp_path / "a.db") == ROWS


def test_skipped_rows_are_counted_but_only_the_first_are_kept(tmp_path, small_chunks):
    path = tmp_path / "v.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("rater,photo,vote,time\n")
        for i in range(ROWS):
            f.write(f"r{i % 7},p{i % 11}.jpg,{9 if i % 2 else 3},{1704067200 + i}\n")
    db = open_database(tmp_path / "a.db")
    try:
        result = import_votes(db, path)
    finally:
        db.close()
    assert result.added == ROWS // 2 and result.skipped_rows == ROWS // 2
    assert len(result.skipped) == votes_file.SKIPPED_KEPT and result.skipped[0][0] == 3
    assert f"{ROWS // 2} row(s) skipped" in result.text()
