"""Several stations at once: 2 and 3 ``score`` processes on the same folder and database, on a
brand-new and on a migrated (old-schema, with rows) SQLite file and PostgreSQL database. All
must exit 0, each photo must end with exactly one row, and the old rows must survive the
migration. Plus the sharpest form of the first-start race: processes that open a brand-new
database at the same instant.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .common import Context, Outcome, cli_args, duplicates, error_line, run_cli, sqlite_rows, write_photos

OLD_REVISION = "0001"  # the first schema: every later migration runs on the stations' first start
OLD_ROWS = 5

# Creates a database at the old revision, with a batch of rows scored by an old model.
MAKE_OLD = """
import sys
from datetime import datetime
from sqlalchemy import create_engine, text
from app.core.store.database import upgrade
engine = create_engine(sys.argv[1])
upgrade(engine, sys.argv[2])
now = datetime(2026, 1, 1)
with engine.begin() as c:
    mv = c.execute(text("insert into model_versions (name, version, sha256, path, card, registered_at, active) "
                        "values ('old-model', '0.1', :sha, '/old.onnx', '{}', :now, false) returning id"),
                   {"sha": "ab" * 32, "now": now}).scalar()
    for i in range(int(sys.argv[3])):
        img = c.execute(text("insert into images (path, source, first_seen, last_seen) "
                             "values (:p, 'folder', :now, :now) returning id"),
                        {"p": f"/old/batch/photo_{i}.jpg", "now": now}).scalar()
        c.execute(text("insert into scores (image_id, model_version_id, status, score, opinions, verdict, scored_at) "
                       "values (:i, :m, 'ok', 55.0, '[55, 55, 55]', 'review', :now)"), {"i": img, "m": mv, "now": now})
"""


def _url_and_rows(ctx: Context, backend: str, name: str):
    """(database URL, function returning its score rows) for a brand-new database."""
    if backend == "sqlite":
        db = ctx.folder("stations") / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        return str(db), lambda: sqlite_rows(db)
    pg = ctx.pg()
    return pg.create_db(name), lambda: pg.rows(name)


def stations(ctx: Context, backend: str, state: str, n: int, n_photos: int) -> Outcome:
    name = f"{n}_stations_{backend}_{state}"
    o = Outcome(name, f"stations {backend}")
    if backend == "postgres" and ctx.pg() is None:
        o.skipped = ctx.pg_why
        return o
    folder = ctx.folder("stations") / f"photos_{n_photos}"
    if not folder.exists() or len(list(folder.iterdir())) < n_photos:
        write_photos(folder, n_photos)
    url, rows_of = _url_and_rows(ctx, backend, name)
    sqlalchemy_url = url if "://" in url else f"sqlite:///{url}"
    if state == "migrated":
        made = run_cli(ctx, [ctx.python, "-c", MAKE_OLD, sqlalchemy_url, OLD_REVISION, str(OLD_ROWS)])
        if made.rc != 0:
            raise RuntimeError(f"cannot make the old database: {made.why()}")
    args = cli_args(ctx, [folder], url)
    procs = [subprocess.Popen(args, cwd=ctx.app_root, env=ctx.env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, start_new_session=True) for _ in range(n)]
    for i, p, err in _finished(procs, 240):
        if err is None:
            o.note("hangs", f"station {i + 1}: no exit within 240 s")
        elif p.returncode in (1,) or p.returncode < 0 or "Traceback (most recent call last)" in err:
            o.note("crashes", f"station {i + 1}: exit {p.returncode}: {error_line(err)}")
        elif p.returncode != 0:
            o.note("wrong", f"station {i + 1}: exit {p.returncode}: {error_line(err)}")
    rows = rows_of()
    mine = [r for r in rows if r[4] != "old-model"]
    got = {os.path.basename(r[0]) for r in mine}
    if len(got) < n_photos:
        o.note("lost", f"{n_photos - len(got)} of {n_photos} photos have no row", n_photos - len(got))
    if duplicates(rows):
        o.note("dup", f"{duplicates(rows)} rows beyond one per photo", duplicates(rows))
    if state == "migrated":
        old = [r for r in rows if r[4] == "old-model"]
        if len(old) < OLD_ROWS:
            o.note("lost", f"{OLD_ROWS - len(old)} of the {OLD_ROWS} rows from before the migration", OLD_ROWS - len(old))
    return o


# Waits for a shared start instant, then opens the database the app's way.
OPEN_AT = """
import sys, time
from app.core.store import open_database
from app.core.store.database import current_revision, head_revision
at = float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
db = open_database(sys.argv[1])
assert current_revision(db.engine) == head_revision()
db.close()
"""


def _finished(procs: list[subprocess.Popen], timeout: float):
    """(index, process, its stderr) for each process in turn; stderr None for one that did not
    exit within ``timeout`` (its process group is killed)."""
    for i, p in enumerate(procs):
        try:
            yield i, p, p.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            yield i, p, None


def first_open_race(ctx: Context, n: int, rounds: int, backend: str = "sqlite") -> Outcome:
    """``rounds`` times, ``n`` processes open the same brand-new database at the same instant."""
    o = Outcome(f"{n} processes open a new {backend} database at once (x{rounds})", "3 first start", cases=rounds)
    if backend == "postgres" and ctx.pg() is None:
        o.skipped = ctx.pg_why
        return o
    for r in range(rounds):
        url, _ = _url_and_rows(ctx, backend, f"race_{n}_{r}")
        at = time.time() + 1.5  # after every interpreter has started and imported the store
        procs = [subprocess.Popen([ctx.python, "-c", OPEN_AT, url, str(at)], cwd=ctx.app_root, env=ctx.env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True) for _ in range(n)]
        for i, p, err in _finished(procs, 120):
            if err is None:
                o.note("hangs", f"round {r + 1}, process {i + 1}: no exit within 120 s")
            elif p.returncode != 0:
                o.note("crashes", f"round {r + 1}, process {i + 1}: exit {p.returncode}: {error_line(err)}")
    return o
