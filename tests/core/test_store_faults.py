"""Real database faults, made here: a kill -9 during the first start, stations starting together,
locks, a read-only file, a full disk, a corrupt page, a PostgreSQL restart.

Each test makes the fault for real (a second connection, chmod or a read-only remount, a tiny disk,
bytes overwritten, pg_ctl) and checks what the user gets: the store copes, or stops with one clear
line, and nothing committed is lost."""
from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from PIL import Image
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine

from app import cli
from app.core.scoring.photo import score_batch
from app.core.store import database, open_database
from app.core.store.database import current_revision, head_revision, sqlite_url
from app.core.store.schema import Base
from app.core.workspace import Workspace
from tests.conftest import write_photos
from tests.stale_pages import station_file_with_stale_index_pages

# Spawned, not forked: a child forked from the test process (with Qt, ONNX Runtime and logging
# threads) can inherit a lock held mid-operation and hang holding the database write lock.
SPAWN = multiprocessing.get_context("spawn")


def _assert_at_head_and_intact(url: str) -> None:
    engine = create_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as c:
            assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
            if engine.dialect.name == "sqlite":
                assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()


# --- the first start ---------------------------------------------------------------------------

def _count_steps(fn) -> int:
    """How many statements and commits ``fn`` sends to a database."""
    steps = 0

    def count(*_args):
        nonlocal steps
        steps += 1

    event.listen(Engine, "before_cursor_execute", count)
    event.listen(Engine, "commit", count)
    try:
        fn()
    finally:
        event.remove(Engine, "before_cursor_execute", count)
        event.remove(Engine, "commit", count)
    return steps


def _first_start_killed_at(path, step: int) -> None:
    """In a child: open a new database and SIGKILL ourselves just before statement (or commit) ``step``."""
    seen = 0

    def maybe_die(*_args):
        nonlocal seen
        seen += 1
        if seen == step:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", maybe_die)
    event.listen(Engine, "commit", maybe_die)
    open_database(path).close()


def test_a_kill_at_any_step_of_the_first_start_leaves_a_database_the_next_start_completes(tmp_path):
    steps = _count_steps(lambda: open_database(tmp_path / "count.db").close())
    assert steps > 20  # every table, index and version stamp of every migration
    broken = []
    for step in range(1, steps + 1):
        path = tmp_path / f"killed_at_{step}.db"
        child = SPAWN.Process(target=_first_start_killed_at, args=(path, step))
        child.start()
        child.join(60)
        assert child.exitcode == -signal.SIGKILL, f"step {step}: the child was not killed"
        try:
            open_database(path).close()  # the next start
            _assert_at_head_and_intact(sqlite_url(path))
        except Exception as exc:
            broken.append(f"killed before step {step}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    assert broken == []


def _open_together(url_or_path, barrier, errors) -> None:
    barrier.wait()
    try:
        open_database(url_or_path).close()
    except Exception as exc:
        errors.put(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        raise SystemExit(1)


def _start_stations_together(url_or_path, n: int) -> list[str]:
    barrier, errors = SPAWN.Barrier(n), SPAWN.Queue()
    children = [SPAWN.Process(target=_open_together, args=(url_or_path, barrier, errors)) for _ in range(n)]
    for c in children:
        c.start()
    for c in children:
        c.join(120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    return found + [f"exit code {c.exitcode}" for c in children if c.exitcode != 0]


@pytest.mark.parametrize("stations", [2, 3])
def test_stations_starting_together_on_a_new_sqlite_file_all_succeed(tmp_path, stations):
    for attempt in range(4):  # a race: give it a few chances to show
        path = tmp_path / f"new_{attempt}.db"
        assert _start_stations_together(path, stations) == []
        _assert_at_head_and_intact(sqlite_url(path))


@pytest.mark.parametrize("stations", [2, 3])
def test_stations_starting_together_on_a_new_postgres_database_all_succeed(postgres_cluster, stations):
    for attempt in range(3):
        url = postgres_cluster.new_database(f"new_{stations}_{attempt}")
        assert _start_stations_together(url, stations) == []
        _assert_at_head_and_intact(url)


# --- a database problem mid-batch ---------------------------------------------------------------

@pytest.fixture
def retries(monkeypatch):
    """Short waits, so that a test meets a lock's timeout and the end of the retries in seconds."""
    def set_(busy_timeout_s: float, retry_s: float) -> None:
        monkeypatch.setattr(database, "BUSY_TIMEOUT_S", busy_timeout_s)
        monkeypatch.setattr(database, "RETRY_S", retry_s)
    return set_


def _photos(folder, n: int = 4) -> list[Path]:
    """``n`` small photos (the shared factory's), by the paths the database stores (resolved)."""
    return [Path(os.path.realpath(p)) for p in write_photos(folder, n, (48, 64), name="{i:02d}.png")]


def _stored(url: str) -> set[str]:
    """Paths with a score row, read by a fresh connection (what a restart would find)."""
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return {r[0] for r in c.execute(text("SELECT path FROM images JOIN scores ON scores.image_id = images.id"))}
    finally:
        engine.dispose()


class _WriteLock:
    """Another program writing to the SQLite file: BEGIN EXCLUSIVE, held until ``release``."""

    def __init__(self, path):
        self.c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.c.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.c.execute("COMMIT")
        self.c.close()


def _error_lines(stderr: str) -> list[str]:
    return [line.strip("\r") for line in stderr.replace("\r", "\n").splitlines() if line.startswith("error:")]


def test_a_lock_held_past_the_busy_timeout_is_retried_and_the_batch_completes(tmp_path, exported_student, retries):
    retries(busy_timeout_s=0.1, retry_s=10)
    ws = Workspace(tmp_path / "x.db")
    ws.load_model(exported_student[1])
    photos = _photos(tmp_path / "photos")
    releases = []

    def lock_after_the_first(summary, _record):
        if summary.scored == 1 and not releases:
            lock = _WriteLock(tmp_path / "x.db")  # for 0.6 s: six busy timeouts
            releases.append(threading.Timer(0.6, lock.release))
            releases[0].start()

    start = time.monotonic()
    summary = score_batch(photos, ws.engine, ws.db, ws.model_version_id, progress=lock_after_the_first)
    releases[0].join()
    assert time.monotonic() - start > 0.6  # it did meet the lock, and waited it out
    assert (summary.scored, summary.error) == (4, None)
    ws.close()
    assert _stored(sqlite_url(tmp_path / "x.db")) == set(map(str, photos))


def test_a_lock_that_never_ends_stops_the_cli_with_one_line_and_exit_3_keeping_what_was_stored(
        tmp_path, exported_student, retries, monkeypatch, capsys):
    retries(busy_timeout_s=0.05, retry_s=0.5)
    db_path = tmp_path / "x.db"
    photos = _photos(tmp_path / "photos")
    locks = []
    shown = cli.progress_bar

    def show_then_lock_after_two(summary, record):
        shown(summary, record)
        if summary.scored == 2 and not locks:
            locks.append(_WriteLock(db_path))  # and never lets go

    monkeypatch.setattr(cli, "progress_bar", show_then_lock_after_two)
    assert cli.score_command(photos, exported_student[1], str(db_path)) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = _error_lines(err)
    assert line.startswith(f"error: database {sqlite_url(db_path)}: database is locked")
    assert line.endswith("; 2 photos stored before the stop are kept")
    assert _stored(sqlite_url(db_path)) == set(map(str, photos[:2]))  # WAL: readable while locked
    locks[0].release()


class _ReadOnly:
    """Makes a folder's database read-only and writable again: chmod, or, for root (whom file modes
    do not stop), a read-only remount of the folder, as the system does to a disk that fails."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.mounted = os.geteuid() == 0 and subprocess.run(
            ["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0

    def switch(self, read_only: bool) -> None:
        if self.mounted:
            options = "remount,bind,ro" if read_only else "remount,bind,rw"
            subprocess.run(["mount", "-o", options, str(self.folder)], check=True, capture_output=True)
        else:
            for f in self.folder.iterdir():
                f.chmod(0o444 if read_only else 0o644)


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    switch = _ReadOnly(folder)
    if os.geteuid() == 0 and not switch.mounted:
        pytest.skip("root, and no mount: nothing here can make a file read-only for root")
    yield switch
    if switch.mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_database_made_read_only_mid_batch_stops_it_with_a_clear_reason(tmp_path, exported_student, read_only, retries):
    retries(busy_timeout_s=0.1, retry_s=1)
    db_path = read_only.folder / "x.db"
    ws = Workspace(db_path)
    ws.load_model(exported_student[1])
    photos = _photos(tmp_path / "photos")

    def read_only_after_two(summary, _record):
        if summary.scored == 2:
            # An open file keeps the rights it was opened with: the next connection meets the new ones.
            ws.db.engine.dispose()
            read_only.switch(True)

    summary = score_batch(photos, ws.engine, ws.db, ws.model_version_id, progress=read_only_after_two)
    assert summary.scored == 2
    # A read-only file in a writable folder cannot be written; on a read-only file system SQLite
    # cannot even make its shared-memory file beside it. Either way: stopped, saying why.
    assert summary.error in (
        f"database {sqlite_url(db_path)}: attempt to write a readonly database "
        "(it is read-only: check the permissions of the file and its folder)",
        f"database {sqlite_url(db_path)}: unable to open database file (check that the folder exists and is writable)",
    )
    ws.close()
    read_only.switch(False)
    assert _stored(sqlite_url(db_path)) == set(map(str, photos[:2]))


@pytest.fixture
def tiny_disk(tmp_path):
    """A 4 MB tmpfs where mounting is allowed (root), else None."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode == 0
    yield mnt if mounted else None
    if mounted:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path) -> None:
    """Fill the disk to its last byte (already full is full: the database and its WAL may have
    taken the rest, now that the schema holds more tables)."""
    try:
        with open(folder / "filler", "wb") as f:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def test_a_full_disk_mid_batch_stops_it_with_a_clear_reason_and_keeps_what_was_stored(
        tmp_path, tiny_disk, exported_student, retries):
    retries(busy_timeout_s=0.1, retry_s=1)
    db_path = (tiny_disk or tmp_path) / "x.db"
    ws = Workspace(db_path)
    ws.load_model(exported_student[1])
    photos = _photos(tmp_path / "photos", 6)

    def disk_full_after_two(summary, _record):
        if summary.scored != 2:
            return
        if tiny_disk is not None:
            _fill(tiny_disk)
        else:  # no mount here: SQLite's own limit gives the same SQLITE_FULL
            with ws.db.engine.connect() as c:
                pages = c.exec_driver_sql("PRAGMA page_count").scalar()
            event.listen(ws.db.engine, "connect", lambda dbapi, _r: dbapi.execute(f"PRAGMA max_page_count={pages}"))
            ws.db.engine.dispose()

    summary = score_batch(photos, ws.engine, ws.db, ws.model_version_id, progress=disk_full_after_two)
    # The next write that needs room stops the batch (with the page limit, a row may still fit).
    assert summary.scored == 2 if tiny_disk is not None else 2 <= summary.scored < len(photos)
    assert summary.error.startswith(f"database {sqlite_url(db_path)}: database or disk is full (free some disk space)")
    ws.close()
    if tiny_disk is not None:
        (tiny_disk / "filler").unlink()
    assert _stored(sqlite_url(db_path)) == set(map(str, photos[:summary.scored]))
    _assert_at_head_and_intact(sqlite_url(db_path))


def test_a_corrupt_page_is_one_clear_line_not_a_traceback(tmp_path, exported_student, capsys):
    db_path, model = tmp_path / "x.db", exported_student[1]
    photos = _photos(tmp_path / "photos")
    assert cli.score_command(photos[:2], model, str(db_path)) == 0  # closed: the WAL is folded in
    c = sqlite3.connect(db_path)
    pages = [r[0] for r in c.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'images' AND rootpage > 0")]
    page_size = c.execute("PRAGMA page_size").fetchone()[0]
    c.close()
    with open(db_path, "r+b") as f:  # what a failing disk leaves: the images table's pages garbled
        for page in pages:
            f.seek((page - 1) * page_size)
            f.write(b"\xa5" * page_size)
    capsys.readouterr()
    # Found by the integrity check at open: the database cannot be opened, nothing is scored.
    assert cli.score_command(photos, model, str(db_path)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = _error_lines(err)
    assert "the file is damaged" in line and "restore it from a backup" in line

    with open(db_path, "r+b") as f:  # now its header too: it cannot even be opened
        f.write(b"\xa5" * 100)
    assert cli.score_command(photos, model, str(db_path)) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = _error_lines(err)
    assert line == f"error: cannot open the database {sqlite_url(db_path)}: file is not a database " \
                   "(the file is damaged or not a database: restore it from a backup)"


def test_a_postgres_restart_mid_batch_loses_nothing(postgres_cluster, exported_student, tmp_path):
    url = postgres_cluster.new_database("restarted")
    ws = Workspace(url)
    ws.load_model(exported_student[1])
    photos = _photos(tmp_path / "photos")

    def restart_after_two(summary, _record):
        if summary.scored == 2:
            postgres_cluster.restart()  # every pooled connection dies

    summary = score_batch(photos, ws.engine, ws.db, ws.model_version_id, progress=restart_after_two)
    assert (summary.scored, summary.error) == (4, None)
    ws.close()
    assert _stored(url) == set(map(str, photos))


def test_a_postgres_server_down_for_a_moment_mid_batch_is_waited_for(postgres_cluster, exported_student, tmp_path):
    url = postgres_cluster.new_database("down")
    ws = Workspace(url)
    ws.load_model(exported_student[1])
    photos = _photos(tmp_path / "photos")
    starts = []

    def down_after_two(summary, _record):
        if summary.scored == 2:
            postgres_cluster.stop()
            starts.append(threading.Timer(1.0, postgres_cluster.start))
            starts[0].start()

    summary = score_batch(photos, ws.engine, ws.db, ws.model_version_id, progress=down_after_two)
    starts[0].join()
    assert (summary.scored, summary.error) == (4, None)
    ws.close()
    assert _stored(url) == set(map(str, photos))


def test_a_refused_postgres_database_is_one_line_without_the_password(postgres_cluster, exported_student, capsys):
    url = make_url(postgres_cluster.url).set(password="s3cret-pw", database="no_such_db")
    assert cli.score_command([], exported_student[1], url.render_as_string(hide_password=False)) == 2
    err = capsys.readouterr().err
    [line] = _error_lines(err)
    assert 'database "no_such_db" does not exist' in line
    assert "s3cret-pw" not in err and "***" in line


def test_a_closing_station_stops_waiting_out_a_lock_at_once(tmp_path, monkeypatch):
    """A worker retrying a locked database for up to 30 s: stop_retrying (the window closing)
    ends its wait at once with the one-line error, so the database is never closed under it."""
    import threading
    import time

    from app.core.store import open_database
    from app.core.store.faults import StoreError

    db = open_database(tmp_path / "s.db")
    calls = []

    def locked():
        calls.append(time.monotonic())
        raise StoreError("s.db", "database is locked (another program is writing to it)", permanent=False)

    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("error", _run_catching(db, locked)))
    started = time.monotonic()
    worker.start()
    time.sleep(0.5)
    db.stop_retrying()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - started < 3
    assert "gave up after" in outcome["error"]
    db.close()


def _run_catching(db, fn):
    from app.core.store.faults import StoreError

    try:
        db.run(fn)
    except StoreError as exc:
        return str(exc)
    return "no error"


def test_a_database_url_naming_a_socket_folder_that_does_not_exist_fails_at_once(tmp_path, capsys):
    """A typo in host= is no server restarting: one line at once, not 30 s of retries."""
    import time

    pytest.importorskip("psycopg")
    from app.__main__ import main

    (tmp_path / "p.png").write_bytes(b"")
    started = time.monotonic()
    code = main(["score", str(tmp_path), "--db", f"postgresql+psycopg://inspector@/photos?host={tmp_path}/no-such-folder"])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - started < 10
    assert "there is no folder" in err and "Traceback" not in err


def test_a_database_url_naming_a_socket_that_does_not_exist_fails_at_once(tmp_path, capsys):
    """Issue 21, 19: the folder is there but no server listens in it (a wrong port or folder):
    one line at once, not 29 s of retries. Only at open: a server restarting under a running
    batch removes its socket for a moment, and that is still waited for."""
    import time

    pytest.importorskip("psycopg")
    from app.__main__ import main

    (tmp_path / "p.png").write_bytes(b"")
    started = time.monotonic()
    code = main(["score", str(tmp_path), "--db", f"postgresql+psycopg://inspector@/photos?host={tmp_path}&port=5499"])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - started < 10 and "Traceback" not in err
    [line] = _error_lines(err)
    assert f"no PostgreSQL server listens at {tmp_path}/.s.PGSQL.5499" in line
    assert "check host= and port= of the database URL" in line


def test_a_database_file_damaged_where_no_write_looks_stops_the_batch_before_any_row(tmp_path, capsys):
    """Three pages overwritten in the middle of a station's file: the next batch says the file is
    damaged and writes nothing into it (before, 25 rows went into a file whose check failed)."""
    import sqlite3

    import numpy as np
    from PIL import Image

    from app.__main__ import main
    from app.core.store import open_database
    from app.core.store.repository import ScoreRecord, record_score, register_model

    path = tmp_path / "station.db"
    db = open_database(path)
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "e" * 64}, "/m.onnx")
    for i in range(3000):
        record_score(db, mv, ScoreRecord(f"/archive/{i:05d}.jpg", "ok", 50.0, [50.0, 50.0, 50.0]))
    db.close()
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = c.execute("PRAGMA page_size").fetchone()[0]
        pages = c.execute("PRAGMA page_count").fetchone()[0]
    data = bytearray(path.read_bytes())
    middle = pages // 2
    data[middle * page:(middle + 3) * page] = bytes(np.random.default_rng(0).integers(0, 256, 3 * page, dtype=np.uint8))
    path.write_bytes(bytes(data))
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photos / "new.png")
    code = main(["score", str(photos), "--db", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "damaged" in err and "restore it from a backup" in err and "Traceback" not in err


def test_a_database_file_with_stale_index_pages_is_refused_before_any_row(tmp_path, capsys):
    """Issue 21, 15: three index pages overwritten with their older selves pass a quick check
    (each page is well formed) and took the batch's rows into a file whose integrity check fails.
    The file is refused at open with one line, and nothing is written into it."""
    from app.__main__ import main

    path = tmp_path / "station.db"
    damaged = station_file_with_stale_index_pages(path)

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(photos / "new.png")
    code = main(["score", str(photos), "--db", str(path)])
    err = capsys.readouterr().err
    [line] = _error_lines(err)
    assert code == 2 and "Traceback" not in err
    assert "the file is damaged" in line and "restore it from a backup" in line
    assert path.read_bytes() == damaged  # not a byte written
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
