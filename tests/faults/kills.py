"""kill -9 at random moments of a batch and of the first start, and at every statement of the
first migration; afterwards the database must open, keep every row it had, hold no half-written
or duplicate row, and a rerun must finish the batch.

Random kills find what nobody thought of; the statement-by-statement kill makes "any point of
the first start" exhaustive and repeatable (a hook in the process kills it right after its
k-th SQL statement), so the CI test can assert on it without depending on timing.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

from .common import (
    Context,
    Outcome,
    cli_args,
    db_opens,
    one_row_each,
    run_cli,
    spawn,
    sqlite_check,
    sqlite_rows,
    write_photos,
)
from .registry import EXIT_0, judge

BATCH = "kills during batch"
FIRST = "kills during first start"
MIGRATION = "3 first start"


def _spawn(ctx: Context, folder: Path, db: Path) -> subprocess.Popen:
    """A batch of ``folder`` into ``db``, to be killed (its output is not read)."""
    return spawn(ctx, cli_args(ctx, [folder], db), keep_stderr=False)


def _time_scale(ctx: Context, folder: Path, probe: Path, reached) -> tuple[float, float]:
    """An unkilled run into ``probe`` sets the time scale for the kills: (seconds until
    ``reached(probe)``, seconds to its end)."""
    t0 = time.monotonic()
    proc = _spawn(ctx, folder, probe)
    while not reached(probe) and proc.poll() is None:
        time.sleep(0.002)
    at = time.monotonic() - t0
    proc.wait()
    return at, time.monotonic() - t0


def _kill(proc: subprocess.Popen) -> bool:
    """SIGKILL the process group; False if it had already ended."""
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def kills_during_batch(ctx: Context, kills: int, n_photos: int, seed: int = 0) -> Outcome:
    """``kills`` runs of one batch, each killed at a random moment (half at a random row count,
    so the kill lands mid-batch; half at a random time, which may land in start-up), checked
    after each; then a final run must finish it."""
    o = Outcome(f"kill -9 x{kills} during a batch of {n_photos}", BATCH, cases=kills + 1)
    rng = random.Random(seed)
    base = ctx.folder(f"kills_batch_{n_photos}_{seed}")
    folder = base / "photos"
    write_photos(folder, n_photos, (240, 320))  # a few ms each, so a kill can land between rows
    db = base / "d.db"
    # Start-up (until the first row), then seconds per photo.
    startup, whole = _time_scale(ctx, folder, base / "probe.db", lambda probe: sqlite_rows(probe, timeout=1))
    per_photo = max(1e-3, (whole - startup) / n_photos)
    seen: set[str] = set()
    done_kills = tries = 0
    while done_kills < kills and tries < 3 * kills:
        tries += 1
        done_before = len(sqlite_rows(db))
        if done_before >= n_photos - 1:
            break
        # Each kill may use up about its share of the photos left, so all the kills fit in one batch.
        share = max(1, (n_photos - 1 - done_before) // (kills - done_kills + 1))
        proc = _spawn(ctx, folder, db)
        t0 = time.monotonic()
        if tries % 2:
            target = done_before + rng.randint(1, 2 * share)
            while len(sqlite_rows(db, timeout=1)) < target and proc.poll() is None and time.monotonic() - t0 < 120:
                time.sleep(rng.uniform(0.0005, 0.005))
        else:
            time.sleep(rng.uniform(0, startup + per_photo * 2 * share))
        if not _kill(proc):
            continue  # the batch ended first: not a kill, try again
        done_kills += 1
        problem = sqlite_check(db) if db.exists() else None
        if problem:
            o.note("wrong", f"after kill {done_kills}: {problem}")
        now = {r[0] for r in sqlite_rows(db)}
        if seen - now:
            o.note("lost", f"after kill {done_kills}: {len(seen - now)} committed rows gone", len(seen - now))
        seen |= now
    o.cases = done_kills + 1
    o.name = f"kill -9 x{done_kills} during a batch of {n_photos}"
    final = run_cli(ctx, cli_args(ctx, [folder], db), timeout=300)
    if not judge(o, final, "final run", EXIT_0) and final.hung:
        return o
    one_row_each(o, sqlite_rows(db), n_photos, "after the final run")
    problem = sqlite_check(db)
    if problem:
        o.note("wrong", f"after the final run: {problem}")
    return o


def kills_during_first_start(ctx: Context, kills: int, seed: int = 0) -> Outcome:
    """``kills`` first starts on a brand-new database, each killed at a random moment of it
    (model loading, creating the file, migrating, the first rows)."""
    o = Outcome(f"kill -9 x{kills} during the first start", FIRST, cases=kills)
    rng = random.Random(seed + 1)
    base = ctx.folder(f"kills_first_{seed}")
    folder = base / "photos"
    write_photos(folder, 3)
    # How long until the file appears, and the end.
    appear, whole = _time_scale(ctx, folder, base / "probe.db", Path.exists)
    for k in range(kills):
        db = base / f"first_{k}.db"
        proc = _spawn(ctx, folder, db)
        t0 = time.monotonic()
        if k % 2 == 0:  # aimed at the migration: shortly after the file appears
            while not db.exists() and proc.poll() is None and time.monotonic() - t0 < 60:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, max(0.05, whole - appear) * 0.5))
        else:
            time.sleep(rng.uniform(0, whole))
        killed = _kill(proc)
        if not db.exists():
            continue  # killed before the file existed: nothing to open (still a case: it must not leave junk)
        problem = db_opens(ctx, str(db))
        if problem:
            o.note("wrong", f"kill {k + 1} at {time.monotonic() - t0:.2f} s{'' if killed else ' (had ended)'}: {problem}")
            continue
        if judge(o, run_cli(ctx, cli_args(ctx, [folder], db)), f"rerun after kill {k + 1}", EXIT_0):
            one_row_each(o, sqlite_rows(db), 3, f"rerun after kill {k + 1}")
    return o


# Runs the app's first open of a database and SIGKILLs itself right after SQL statement k
# (k = 0: no kill; prints how many statements the first open runs).
STATEMENT_KILLER = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
k, count = int(sys.argv[1]), [0]

@event.listens_for(Engine, "after_cursor_execute")
def after(*_):
    count[0] += 1
    if count[0] == k:
        os.kill(os.getpid(), signal.SIGKILL)

from app.core.store import open_database
open_database(sys.argv[2]).close()
print(count[0])
"""


def statement_count(ctx: Context) -> int:
    db = ctx.folder("kills_statements") / "count.db"
    if db.exists():
        db.unlink()
    run = run_cli(ctx, [ctx.python, "-c", STATEMENT_KILLER, "0", str(db)], timeout=120)
    if run.rc != 0:
        raise RuntimeError(f"cannot count the first open's statements: {run.why()}")
    return int(run.out.split()[-1])


def kill_at_statements(ctx: Context, which: list[int] | None = None) -> Outcome:
    """Kill the first open after each statement in ``which`` (default: every one); reopen each."""
    total = statement_count(ctx)
    ks = which or list(range(1, total + 1))
    ks = [k for k in ks if 1 <= k <= total]
    o = Outcome(f"kill -9 after statement k of the first open ({len(ks)} of {total})", MIGRATION, cases=len(ks))
    base = ctx.folder("kills_statements")
    for k in ks:
        db = base / f"k{k:03d}.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        run = run_cli(ctx, [ctx.python, "-c", STATEMENT_KILLER, str(k), str(db)], timeout=120)
        if run.rc != -signal.SIGKILL:
            o.details.append(f"statement {k}: not killed (exit {run.rc})")
            if run.crashed:
                o.note("crashes", f"statement {k}: {run.why()}")
            continue
        if not db.exists():
            continue
        problem = db_opens(ctx, str(db))
        if problem:
            o.note("wrong", f"killed after statement {k} of {total}: {problem}")
    return o


def spread(total: int, n: int) -> list[int]:
    """n statement numbers spread evenly over 1..total (first and last included)."""
    if n >= total:
        return list(range(1, total + 1))
    return sorted({1 + round(i * (total - 1) / (n - 1)) for i in range(n)})
