"""Several stations at once: 2 and 3 ``score`` processes on the same folder and database, on a
brand-new and on a migrated (old-schema, with rows) SQLite file and PostgreSQL database. All
must exit 0, each photo must end with exactly one row, and the old rows must survive the
migration. Plus the sharpest form of the first-start race: processes that open a brand-new
database at the same instant.
"""
from __future__ import annotations

import time
from pathlib import Path

from .common import Context, Outcome, cli_args, finish, one_row_each, run_cli, spawn, sqlite_rows, write_photos
from .registry import EXIT_0, judge

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


def _no_server(ctx: Context, o: Outcome, backend: str) -> bool:
    """True (and the case skipped, with why) when ``backend`` is PostgreSQL and none runs here."""
    if backend == "postgres" and ctx.pg() is None:
        o.skipped = ctx.pg_why
        return True
    return False


def stations(ctx: Context, backend: str, state: str, n: int, n_photos: int) -> Outcome:
    name = f"{n}_stations_{backend}_{state}"
    o = Outcome(name, f"stations {backend}")
    if _no_server(ctx, o, backend):
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
    for i, run in enumerate(_all_at_once(ctx, [args] * n, 240)):
        judge(o, run, f"station {i + 1}", EXIT_0)
    rows = rows_of()
    one_row_each(o, [r for r in rows if r[4] != "old-model"], n_photos, "the stations' batch")
    if state == "migrated":
        one_row_each(o, [r for r in rows if r[4] == "old-model"], OLD_ROWS, "rows from before the migration")
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


def _all_at_once(ctx: Context, commands: list[list], timeout: float):
    """Start every command, then each one's CliRun in turn (hung past ``timeout``: killed)."""
    procs = [spawn(ctx, args) for args in commands]
    for p in procs:
        yield finish(p, timeout)


def first_open_race(ctx: Context, n: int, rounds: int, backend: str = "sqlite") -> Outcome:
    """``rounds`` times, ``n`` processes open the same brand-new database at the same instant."""
    o = Outcome(f"{n} processes open a new {backend} database at once (x{rounds})", "3 first start", cases=rounds)
    if _no_server(ctx, o, backend):
        return o
    for r in range(rounds):
        url, _ = _url_and_rows(ctx, backend, f"race_{n}_{r}")
        at = time.time() + 1.5  # after every interpreter has started and imported the store
        for i, run in enumerate(_all_at_once(ctx, [[ctx.python, "-c", OPEN_AT, url, str(at)]] * n, 120)):
            judge(o, run, f"round {r + 1}, process {i + 1}", EXIT_0)
    return o
