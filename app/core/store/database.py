"""Open the database: engine, SQLite pragmas, migrations to the newest schema, sessions.

The URL is a setting: ``sqlite:///path/to/inspector.db`` by default on a single station, or a
PostgreSQL URL for a shared multi-station set-up (same code; SQLite-only pragmas are skipped).
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from .faults import StoreError, store_error

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 10.0  # SQLite waits this long for another program's write lock, then reports it
RETRY_S = 30.0  # a transient problem (a lock, a server restart) is retried for about this long
LOCK_TIMEOUT_S = 5.0  # PostgreSQL: how long one transaction waits for a lock before it is retried


def alembic_config() -> Config:
    # Built in code, not from an .ini file, so it also works inside a frozen build.
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # First: even turning a brand-new file to WAL must wait for a station that is creating it.
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash loses nothing committed
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster than FULL
    cur.close()


def check_integrity(engine: Engine) -> None:
    """An SQLite file damaged where no write happens to look (pages overwritten by a disk or a
    copy gone wrong) would take new rows silently, so a damaged file stops here, at open, with the
    reason. ``integrity_check``, not ``quick_check``: pages put back from an older copy are each
    well formed, and only matching every index against its table sees that the file no longer
    holds together (0.60 s against 0.24 s for a 315 MB file of 200,000 scores, warm cache)."""
    with engine.connect() as connection:
        problems = [" ".join(str(row[0]).split()) for row in connection.exec_driver_sql("PRAGMA integrity_check(3)")]
    if problems != ["ok"]:
        raise StoreError(str(engine.url.database), "the file is damaged (integrity check: "
                         f"{'; '.join(problems)[:300]}): restore it from a backup", permanent=True)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate in one transaction, one station at a time (migrations/env.py says how)."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    def __init__(self, url: str, migrate: bool = True):
        self.url = url
        self._stop_retrying = threading.Event()  # before the migration, which ``run`` retries
        self._opening = True  # until opened: a socket not found is then a wrong address, not a restart
        # After a PostgreSQL restart every pooled connection is dead: test each on checkout and
        # reconnect, rather than fail the next transaction. (An SQLite file cannot go away.)
        self.engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            try:
                if self.engine.dialect.name == "sqlite":
                    self.run(check_integrity, self.engine)
                self.run(upgrade, self.engine)
            except BaseException:
                self.engine.dispose()
                raise
        self._opening = False
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _translated(self):
        try:
            yield
        except DBAPIError as exc:
            raise store_error(exc, self.engine.url, self._opening) from exc

    @contextmanager
    def session(self):
        """A short transaction: committed on success, rolled back on any error.

        A database error comes out as StoreError. It is not retried here, since only the caller
        can redo the whole body: wrap the call in ``run`` for that."""
        with self._translated(), self._sessions() as s, s.begin():
            if self.engine.dialect.name == "postgresql":
                # A lock another station (or a person in psql) holds is waited for this long, then
                # reported as transient and retried by ``run``: never a batch waiting forever.
                s.execute(text(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'"))
            yield s

    def run(self, fn, *args, **kwargs):
        """``fn(*args, **kwargs)``, tried again with backoff while the problem is transient, for
        about RETRY_S; then, or at once when permanent, StoreError. ``fn`` must be one whole
        transaction (each repository function is), so a retry redoes it from the start."""
        start = time.monotonic()
        delay, tries = 0.05, 1
        while True:
            try:
                with self._translated():
                    return fn(*args, **kwargs)
            except StoreError as exc:
                elapsed = time.monotonic() - start
                if exc.permanent or elapsed + delay > RETRY_S or self._stop_retrying.is_set():
                    if tries == 1:
                        raise
                    raise StoreError(exc.where, f"{exc.reason}; gave up after {tries} tries in {elapsed:.0f} s",
                                     exc.permanent) from exc
                self._stop_retrying.wait(delay)  # a closing window ends the wait at once
                delay, tries = min(2 * delay, 2.0), tries + 1

    def stop_retrying(self) -> None:
        """From now on a transient problem is reported at once instead of retried: a window
        closing lets its workers end before the database closes under them."""
        self._stop_retrying.set()

    def close(self) -> None:
        self._stop_retrying.set()
        self.engine.dispose()


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def open_database(url_or_path: str | Path) -> Database:
    """A database from a URL or an SQLite file path (its folder is created on first use)."""
    text = str(url_or_path)
    if "://" in text:
        return Database(text)
    path = Path(text).expanduser()
    create_private_file(path)
    return Database(sqlite_url(path))


def create_private_file(path: Path) -> None:
    """A new database file readable by its owner alone (votes, rater ids and reviewers are in it),
    in a folder only its owner may enter when this creates the folder; SQLite gives its WAL and
    shared-memory files the database file's permissions. Existing files and folders are left as
    they are (a shared station may have set them on purpose)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # mkdir's mode is reduced by the umask
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another process created it first: theirs stands
            pass
        except OSError:  # a read-only folder: SQLAlchemy says so, with the reason, when it opens it
            pass


__all__ = ["Database", "Session", "StoreError", "current_revision", "head_revision", "open_database", "sqlite_url", "upgrade"]
