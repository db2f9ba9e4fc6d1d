"""Database problems as the app reports them: one readable line, and whether trying again can help.

Transient: a lock another program holds, a PostgreSQL server that restarted or is restarting (the
pool reconnects). Permanent: a read-only or damaged file, a full disk, anything unknown: trying
again only delays the message.
"""
from __future__ import annotations

import errno
import os
import re

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .urls import hide_password


class StoreError(Exception):
    """A database problem. ``permanent``: retrying cannot help; stop and say ``str(self)``."""

    def __init__(self, where: str, reason: str, permanent: bool):
        super().__init__(f"database {where}: {reason}")
        self.where, self.reason, self.permanent = where, reason, permanent


# What to do when the database's file or folder cannot be made, by the OS error's number.
_FOLDER_HINTS = {
    errno.ENOSPC: "free some disk space",
    errno.EDQUOT: "free some disk space (the user's quota is used up)",
    errno.ENOTDIR: "a file stands where a folder should be: remove or rename it",
    errno.EACCES: "the folder is not writable: check its permissions",
    errno.EPERM: "the folder is not writable: check its permissions",
    errno.EROFS: "the drive is read-only",
}
ELSEWHERE = "or put the data elsewhere with --db or MOBILEIQA_HOME"


def cannot_open(db_url: str, exc: Exception) -> str:
    """One line for a database that could not be opened: a StoreError names the database (its
    password hidden) and the reason; anything else (a bad URL, an unreachable server, an
    unwritable folder) gets the URL without its password. A home folder that cannot hold the
    database (full, read-only, a file in the way) also says what to do."""
    if isinstance(exc, StoreError):
        return f"cannot open the {exc}"
    said = f"cannot open the database {hide_password(str(db_url))}: {exc}"
    hint = _FOLDER_HINTS.get(exc.errno) if isinstance(exc, OSError) else None
    return f"{said}; {hint}, {ELSEWHERE}" if hint else said


# (text in the driver's message, permanent, what to do about it); the first match wins.
_KNOWN = (
    ("is locked", False, "another program is writing to it"),  # SQLite busy: database/table/schema
    ("readonly", True, "it is read-only: check the permissions of the file and its folder"),
    ("disk i/o error", True, "check the disk"),
    ("database or disk is full", True, "free some disk space"),
    ("malformed", True, "the file is damaged: restore it from a backup"),
    ("not a database", True, "the file is damaged or not a database: restore it from a backup"),
    ("unable to open database file", True, "check that the folder exists and is writable"),
    # PostgreSQL: the server went away, is restarting, or resolved a conflict between stations.
    ("server closed the connection", False, None),
    ("terminating connection", False, None),
    ("the database system is", False, None),  # starting up, shutting down, in recovery
    ("connection refused", False, None),
    ("no such file or directory", False, None),  # its socket is gone while it restarts
    ("deadlock detected", False, None),
    ("lock timeout", False, "another station or program holds a lock on the data"),
    ("could not serialize access", False, None),
)


def _missing_socket(text: str) -> str | None:
    """The PostgreSQL socket the driver could not find, from its message."""
    match = re.search(r'socket "([^"]+)" failed: no such file or directory', text, re.IGNORECASE)
    return match.group(1) if match else None


def store_error(exc: DBAPIError, url: URL, opening: bool = False) -> StoreError:
    """Classify a SQLAlchemy/DBAPI error; the URL is shown without its password. ``opening``: the
    database has not been opened yet (no server was ever reached at that address)."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    lowered = text.lower()
    permanent, hint = next(((p, h) for needle, p, h in _KNOWN if needle in lowered), (True, None))
    if exc.connection_invalidated:  # a lost connection: the pool opens a new one on the next try
        permanent = False
    socket = _missing_socket(text)
    if socket:
        folder = os.path.dirname(socket)
        if folder and not os.path.isdir(folder):  # a restarting server keeps its socket's folder
            permanent, hint = True, f"there is no folder {folder}: check the host= of the database URL"
        elif opening:
            # A server restarting under a running batch removes its socket for a moment (waited
            # for); at open no server has answered there yet, and a wrong port or folder never will.
            permanent, hint = True, (f"no PostgreSQL server listens at {socket}: check host= and port= of the "
                                     "database URL, and that the server runs")
    first = text.splitlines()[0] if text else type(exc.orig or exc).__name__
    return StoreError(hide_password(url.render_as_string(hide_password=False)), f"{first} ({hint})" if hint else first, permanent)
