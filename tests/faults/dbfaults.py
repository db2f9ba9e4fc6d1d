"""Class 4: the database fails under a running batch. A lock outlasting the busy timeout and a
PostgreSQL restart are transient (retried: the batch finishes); a read-only file, a full disk
and a damaged file are permanent (one clear line, a non-zero exit that is not 1, and every row
committed before the fault still there). Never a traceback.

Each case first scores a few photos (the committed rows), then injects the fault and runs the
CLI on a larger folder that includes them.
"""
from __future__ import annotations

import os
import re
import resource
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from .common import Context, Outcome, cli_args, run_cli, sqlite_check, sqlite_rows, write_photos
from .registry import EXIT_0, REFUSAL, judge, outcome, register_rows, scenario
from ..stale_pages import index_root_pages, integrity, put_back_older_pages

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


def _refused_in_one_line(ctx: Context, o: Outcome, paths: list, db: Path, what: str, preexec=None) -> None:
    """``score`` into a database it must refuse: a refusal's exit code and one clear line."""
    run = run_cli(ctx, cli_args(ctx, paths, db), preexec=preexec)
    if judge(o, run, what, REFUSAL):
        _one_clear_line(o, run)


def _paths(rows) -> set:
    return {r[0] for r in rows}


@scenario("sqlite_lock_past_busy_timeout", 4, slow=True)
def sqlite_lock_past_busy_timeout(ctx: Context, o: Outcome) -> None:
    """Another program holds the write lock for longer than the busy timeout, then lets go."""
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


def _file_size_limit(limit: int):
    """preexec_fn: the disk is full past ``limit`` bytes a file (RLIMIT_FSIZE, with SIGXFSZ ignored
    so the write fails instead of killing the process; a process's children inherit it)."""
    def fill_up() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return fill_up


# --- permanent faults: a table, judged one way ----------------------------------------------
# Each injects its fault into a database holding committed rows (a context manager that yields
# the batch's preexec_fn, or None), then a batch into it must be refused in one clear line.

@contextmanager
def _read_only(db: Path):
    db.chmod(0o444)  # the file only: its folder stays writable, as when a user copies a file off a share
    try:
        yield _file_permissions_apply()
    finally:
        db.chmod(0o644)


@contextmanager
def _disk_fills(db: Path):
    """Mid-batch: the process may write only a little more than the file holds."""
    yield _file_size_limit(db.stat().st_size + 40_000)


@contextmanager
def _scores_page_scrambled(db: Path):
    """The root page of the scores table scrambled (the schema and every other page intact)."""
    with sqlite3.connect(db) as c:
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        root = c.execute("select rootpage from sqlite_master where name = 'scores'").fetchone()[0]
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(bytes((i * 37 + 11) % 256 for i in range(page_size)))
    yield None


@contextmanager
def _header_overwritten(db: Path):
    with open(db, "r+b") as f:
        f.write(b"this is no longer an SQLite file" * 4)
    yield None


@dataclass(frozen=True)
class PermanentFault:
    name: str
    what: str  # the batch, as a failure names it
    inject: Callable[[Path], AbstractContextManager]
    n_all: int = 12  # photos in the batch (the first 3 are the committed rows)
    keeps_rows: bool = True  # the committed rows must still be there (False: the fault damages them)
    sound_after: bool = False  # the file must pass an integrity check after the refusal
    cls = 4  # not a field: every one is a database fault
    slow = False


PERMANENT_FAULTS = (
    PermanentFault("sqlite_read_only_file", "score into a read-only file", _read_only),
    PermanentFault("sqlite_disk_full", "score until the disk is full", _disk_fills, n_all=40, sound_after=True),
    PermanentFault("sqlite_corrupt_page", "score into a damaged file", _scores_page_scrambled, keeps_rows=False),
    PermanentFault("sqlite_not_a_database", "score into a file that is not a database", _header_overwritten,
                   keeps_rows=False),
)


def run_permanent_fault(ctx: Context, case: PermanentFault) -> Outcome:
    o = outcome(case.name, case.cls)
    base, folder, db, _ = _prepared(ctx, f"c4_{case.name}", n_all=case.n_all)
    before = _paths(sqlite_rows(db)) if case.keeps_rows else set()
    with case.inject(db) as preexec:
        _refused_in_one_line(ctx, o, [folder], db, case.what, preexec=preexec)
    problem = sqlite_check(db) if case.sound_after else None
    if problem:
        o.note("wrong", f"database after the fault: {problem}")
    if case.keeps_rows:
        _kept(o, before, _paths(sqlite_rows(db)))
    return o


register_rows(PERMANENT_FAULTS, run_permanent_fault)


@scenario("sqlite_stale_index_pages", 4)
def sqlite_stale_index_pages(ctx: Context, o: Outcome) -> None:
    """Three index pages put back from an older copy of the file (each well formed, so a quick
    check passes): a batch of new photos is refused with one line and not a byte is written
    (before: exit 0, its rows written into a file whose integrity check fails)."""
    base, folder, db, _ = _prepared(ctx, "c4_stale")
    older = db.read_bytes()
    more = run_cli(ctx, cli_args(ctx, sorted(folder.iterdir())[:8], db))
    if not judge(o, more, "score more photos before the damage", EXIT_0):
        return
    put_back_older_pages(db, older, index_root_pages(db, "scores"))
    if integrity(db)[1] == "ok":
        o.skipped = "the pages put back left the file whole: nothing to refuse"
        return
    damaged = db.read_bytes()
    new = base / "new"  # photos never seen: only inserts, which a damaged index page takes silently
    write_photos(new, 4)
    _refused_in_one_line(ctx, o, [new], db, "score into a file with stale index pages")
    if db.read_bytes() != damaged:
        o.note("wrong", "the damaged file was written to")


@scenario("archive_disk_full_counts_what_it_stored", 4, slow=True)
def archive_disk_full_counts_what_it_stored(ctx: Context, o: Outcome) -> None:
    """The disk fills under an archive run of three workers: it stops with one line whose "N photos
    stored in this run" is every row the run wrote (it counted only the chunks that answered:
    73 against 79), and nothing of it is still writing once it has said so."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        o.skipped = "Dask distributed is not installed"
        return
    base, folder, db, _ = _prepared(ctx, "c4_archive_full", n_all=3)
    archive = base / "archive"
    write_photos(archive, 120)
    before = len(sqlite_rows(db))
    fill_up = _file_size_limit(db.stat().st_size + 60_000)  # the workers are its children: theirs too
    run = run_cli(ctx, [ctx.python, "-m", "app", "archive", "score", str(archive), "--db", str(db), "--workers", "3",
                        "--chunk", "8", "--model", str(ctx.tiny["ok"]), *ctx.trust_flag()], preexec=fill_up)
    if not judge(o, run, "an archive run until the disk is full", REFUSAL):
        return
    _one_clear_line(o, run)
    stored = len(sqlite_rows(db)) - before
    time.sleep(1.0)
    if len(sqlite_rows(db)) - before != stored:
        o.note("wrong", f"rows still written after the run ended: {stored}, then {len(sqlite_rows(db)) - before}")
    said = re.search(r"; (\d+) photos stored in this run are kept", run.err)
    if said is None:
        o.note("wrong", f"no count of the photos stored: {run.err.strip()[-200:]!r}")
    elif int(said.group(1)) != stored:
        o.note("wrong", f"said {said.group(1)} photos stored in this run, the database holds {stored} new rows")


@scenario("postgres_restart_mid_batch", 4)
def postgres_restart_mid_batch(ctx: Context, o: Outcome) -> None:
    """The server restarts while a batch writes to it: the batch reconnects and finishes."""
    pg = ctx.pg()
    if pg is None:
        o.skipped = ctx.pg_why
        return
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
        return
    pg.restart("fast")
    try:
        err = proc.communicate(timeout=300)[1]
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        err, hung = proc.communicate()[1], True
    if hung:
        o.note("hangs", "no exit within 300 s after the restart")
        return
    if proc.returncode == 1 or proc.returncode < 0 or "Traceback (most recent call last)" in err:
        o.note("crashes", f"exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
        return
    rows = pg.rows("c4_restart")
    if proc.returncode != 0:
        o.note("wrong", f"a restart is transient, yet exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
    paths = [r[0] for r in rows]
    if len(paths) != len(set(paths)):
        o.note("dup", f"{len(paths) - len(set(paths))} duplicate rows", len(paths) - len(set(paths)))
    if len(set(paths)) < n and proc.returncode == 0:
        o.note("lost", f"{n - len(set(paths))} photos have no row", n - len(set(paths)))
