"""Open the database: engine, SQLite pragmas, migrations to the newest schema, sessions.

The URL is a setting: ``sqlite:///path/to/inspector.db`` by default on a single station, or a
PostgreSQL URL for a shared multi-station set-up (same code; SQLite-only pragmas are skipped).
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    # Built in code, not from an .ini file, so it also works inside a frozen build.
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a crash loses nothing committed
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster than FULL
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
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
        self.engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self):
        """A short transaction: committed on success, rolled back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def open_database(url_or_path: str | Path) -> Database:
    """A database from a URL or an SQLite file path (its folder is created on first use)."""
    text = str(url_or_path)
    if "://" in text:
        return Database(text)
    Path(text).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return Database(sqlite_url(Path(text).expanduser()))


__all__ = ["Database", "Session", "current_revision", "head_revision", "open_database", "sqlite_url", "upgrade"]
