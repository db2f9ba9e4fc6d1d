"""Class 4: the database fails under a running batch. A lock outlasting the busy timeout and a
PostgreSQL restart are transient (retried: the batch finishes); a read-only file, a full disk
and a damaged file are permanent (one clear line, a non-zero exit that is not 1, and every row
committed before the fault still there). Never a traceback.

Each case first scores a few photos (the committed rows), then injects the fault and runs the
CLI on a larger folder that includes them.
"""
from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from .common import Context, Outcome, cli_args, run_cli, sqlite_check, sqlite_rows, write_photos
from .scenarios import judge, outcome, refused_rc, scenario

BUSY_TIMEOUT_S = 10  # the app's SQLite busy timeout; the lock is held longer than this


def _prepared(ctx: Context, name: str, n_first: int = 3, n_all: int = 12, size=(96, 128)) -> tuple[Path, Path, Path, int]:
    """(base folder, folder of all photos, sqlite file with the first ``n_first`` scored, rows)."""
    base = ctx.folder(name)
    first, folder = base / "first", base / "photos"
    paths = write_photos(folder, n_all, size)
    first.mkdir(exist_ok=True)
    for p in paths[:n_first]:
        if not (first / p.name).exists():
            os.link(p, first / p.name)
    db = base / "d.db"
    run = run_cli(ctx, cli_args(ctx, [folder / p.name for p in paths[:n_first]], db))
    if run.rc != 0:
        raise RuntimeError(f"{name}: could not prepare the database: {run.why()}")
    return base, folder, db, len(sqlite_rows(db))


def _kept(o: Outcome, before: set, after: set) -> None:
    lost = before - after
    if lost:
        o.note("lost", f"{len(lost)} committed rows gone after the fault", len(lost))


def _one_clear_line(o: Outcome, run) -> None:
    """A permanent fault is explained by a line that starts 'error:' (and a traceback is a crash)."""
    if not any(line.startswith("error:") for line in run.err.splitlines()):
        o.note("wrong", f"exit {run.rc} without an 'error:' line: {run.err.strip()[-200:]!r}")


def _paths(rows) -> set:
    return {r[0] for r in rows}


@scenario("sqlite_lock_past_busy_timeout", 4, slow=True)
def sqlite_lock_past_busy_timeout(ctx: Context) -> Outcome:
    """Another program holds the write lock for longer than the busy timeout, then lets go."""
    o = outcome("sqlite_lock_past_busy_timeout", 4)
    base, folder, db, _ = _prepared(ctx, "c4_lock")
    before = _paths(sqlite_rows(db))
    hold = BUSY_TIMEOUT_S + 4
    locker = subprocess.Popen(
        [ctx.python, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True)\n"
         f"time.sleep({hold}); c.execute('COMMIT')"],
        stdout=subprocess.PIPE, text=True)
    try:
        locker.stdout.readline()
        run = run_cli(ctx, cli_args(ctx, [folder], db), timeout=hold + 120)
    finally:
        locker.kill()
        locker.wait()
    # Transient: retried to success (exit 0, every photo), or after long retries one clear line.
    if judge(o, run, "score while locked"):
        rows = sqlite_rows(db)
        if run.rc == 0 and len(rows) < 12:
            o.note("lost", f"exit 0 but {12 - len(rows)} photos have no row", 12 - len(rows))
        elif run.rc != 0:
            _one_clear_line(o, run)
        _kept(o, before, _paths(rows))
    return o


def _file_permissions_apply():
    """preexec_fn: as root, drop the capability to override file permissions (from the bounding
    set, so it is gone after exec too); root would otherwise write a read-only file regardless."""
    if os.geteuid() != 0:
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
    return drop


@scenario("sqlite_read_only_file", 4)
def sqlite_read_only_file(ctx: Context) -> Outcome:
    o = outcome("sqlite_read_only_file", 4)
    base, folder, db, _ = _prepared(ctx, "c4_readonly")
    before = _paths(sqlite_rows(db))
    db.chmod(0o444)  # the file only: its folder stays writable, as when a user copies a file off a share
    try:
        run = run_cli(ctx, cli_args(ctx, [folder], db), preexec=_file_permissions_apply())
    finally:
        db.chmod(0o644)
    if judge(o, run, "score into a read-only file", refused_rc, "a refusal (non-zero, not 1)"):
        _one_clear_line(o, run)
    _kept(o, before, _paths(sqlite_rows(db)))
    return o


@scenario("sqlite_disk_full", 4)
def sqlite_disk_full(ctx: Context) -> Outcome:
    """The disk fills mid-batch: the process may write only a little more than the file holds
    (RLIMIT_FSIZE, with SIGXFSZ ignored so the write fails instead of killing it)."""
    o = outcome("sqlite_disk_full", 4)
    base, folder, db, _ = _prepared(ctx, "c4_full", n_all=40)
    before = _paths(sqlite_rows(db))
    limit = db.stat().st_size + 40_000

    def fill_up() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = run_cli(ctx, cli_args(ctx, [folder], db), preexec=fill_up)
    if judge(o, run, "score until the disk is full", refused_rc, "a refusal (non-zero, not 1)"):
        _one_clear_line(o, run)
    problem = sqlite_check(db)
    if problem:
        o.note("wrong", f"database after the disk filled: {problem}")
    _kept(o, before, _paths(sqlite_rows(db)))
    return o


def _corrupt_scores_page(db: Path) -> None:
    """Scramble the root page of the scores table (the schema and every other page intact)."""
    with sqlite3.connect(db) as c:
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("select rootpage from sqlite_master where name = 'scores'").fetchone()[0]
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes((i * 37 + 11) % 256 for i in range(page_size)))


@scenario("sqlite_corrupt_page", 4)
def sqlite_corrupt_page(ctx: Context) -> Outcome:
    o = outcome("sqlite_corrupt_page", 4)
    base, folder, db, _ = _prepared(ctx, "c4_corrupt")
    _corrupt_scores_page(db)
    run = run_cli(ctx, cli_args(ctx, [folder], db))
    if judge(o, run, "score into a damaged file", refused_rc, "a refusal (non-zero, not 1)"):
        _one_clear_line(o, run)
    return o


@scenario("sqlite_not_a_database", 4)
def sqlite_not_a_database(ctx: Context) -> Outcome:
    o = outcome("sqlite_not_a_database", 4)
    base, folder, db, _ = _prepared(ctx, "c4_notdb")
    with open(db, "r+b") as f:
        f.write(b"this is no longer an SQLite file" * 4)
    run = run_cli(ctx, cli_args(ctx, [folder], db))
    if judge(o, run, "score into a file that is not a database", refused_rc, "a refusal (non-zero, not 1)"):
        _one_clear_line(o, run)
    return o


@scenario("postgres_restart_mid_batch", 4)
def postgres_restart_mid_batch(ctx: Context) -> Outcome:
    """The server restarts while a batch writes to it: the batch reconnects and finishes."""
    o = outcome("postgres_restart_mid_batch", 4)
    pg = ctx.pg()
    if pg is None:
        o.skipped = ctx.pg_why
        return o
    n = 150
    base = ctx.folder("c4_pg_restart")
    folder = base / "photos"
    write_photos(folder, n, (384, 512))  # a little decoding per photo, so the batch outlasts the restart
    url = pg.create_db("c4_restart")
    before = 20
    proc = subprocess.Popen(cli_args(ctx, [folder], url), cwd=ctx.app_root, env=ctx.env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(pg.rows("c4_restart")) < before and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is not None:
        o.skipped = "the batch ended before the restart: make it longer"
        return o
    pg.restart("fast")
    try:
        err = proc.communicate(timeout=300)[1]
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        err, hung = proc.communicate()[1], True
    if hung:
        return o.note("hangs", "no exit within 300 s after the restart")
    if proc.returncode == 1 or proc.returncode < 0 or "Traceback (most recent call last)" in err:
        return o.note("crashes", f"exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
    rows = pg.rows("c4_restart")
    if proc.returncode != 0:
        o.note("wrong", f"a restart is transient, yet exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
    paths = [r[0] for r in rows]
    if len(paths) != len(set(paths)):
        o.note("dup", f"{len(paths) - len(set(paths))} duplicate rows", len(paths) - len(set(paths)))
    if len(set(paths)) < n and proc.returncode == 0:
        o.note("lost", f"{n - len(set(paths))} photos have no row", n - len(set(paths)))
    return o
