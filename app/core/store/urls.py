"""Database URLs as they may be shown: in a terminal, a log, a model card or a process list."""
from __future__ import annotations

from sqlalchemy.engine import make_url

DB_URL_ENV = "MOBILEIQA_DB_URL"  # how a child process is given the URL (never on its command line)


def hide_password(url: str) -> str:
    """The URL with its password masked; an SQLite path as it is."""
    if "://" not in url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing of it
        return "(the database URL)"
