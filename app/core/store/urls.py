"""URLs as they may be shown: in a terminal, a log, a model card, a status bar or a process list.

Database URLs and camera stream URLs both carry secrets in two forms: ``user:password@host`` and
``?password=...`` (libpq and SQLAlchemy read both). Masking does not parse the URL as a library
would: a password may itself hold ``@``, ``/`` or ``:`` unencoded, and a parser that splits at the
first ``@`` shows the rest of it. Everything before the last ``@`` of the part before the query
is the user information, and only the user name of it is kept.
"""
from __future__ import annotations

import re

DB_URL_ENV = "MOBILEIQA_DB_URL"  # how a child process is given the URL (never on its command line)
MASK = "***"
# Query keys whose values are secrets (libpq's password, sslpassword; tokens and keys of streams).
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|auth|key", re.IGNORECASE)
# sslkey / sslrootcert name files, not secrets: their paths stay visible.
_FILE_KEYS = {"sslkey", "sslcert", "sslrootcert", "sslcrl"}


def hide_password(url: str) -> str:
    """The URL with every password masked; a plain path (SQLite file, video file) as it is."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    before_query, sep, query = rest.partition("?")
    if "@" in before_query:
        userinfo, host = before_query.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":" + MASK
        before_query = f"{userinfo}@{host}"
    if sep:
        query = "&".join(_mask_parameter(p) for p in query.split("&"))
    return f"{scheme}://{before_query}{sep}{query}"


def _mask_parameter(parameter: str) -> str:
    key, eq, _value = parameter.partition("=")
    if eq and _SECRET_KEY.search(key) and key.lower() not in _FILE_KEYS:
        return f"{key}={MASK}"
    return parameter


def has_password(url: str) -> bool:
    return hide_password(url) != url


def password_on_command_line_warning(url: str | None) -> str | None:
    """The warning to print when a URL given on the command line holds a password (every user
    of the PC can read a process's command line); None when it holds none."""
    if not url or not has_password(url):
        return None
    return (f"warning: the password in --db shows in this PC's process list; give the URL in ${DB_URL_ENV} "
            "or keep the password in ~/.pgpass (PostgreSQL reads it there)")
