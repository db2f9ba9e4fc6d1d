"""Who has read how to rate (app.ui.rater_help shows the page before a rater's first photo): in
the database, per rater, so a person reads it once whichever station of the site, and whichever
computer login, they rate at. It was each station's settings, per OS login: a rater was shown it
again at the next computer, and the record did not travel with the site's ratings."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from ..store.database import Database
from ..store.schema import Rater, utcnow


def instructions_seen(db: Database, rater_key: str) -> bool:
    with db.session() as s:
        return s.scalar(select(Rater.instructions_seen_at).where(Rater.key == rater_key)) is not None


def mark_instructions_seen(db: Database, raters: Iterable[str]) -> None:
    """Record that these raters have read the page (a rater not known yet is added, as signing in
    to rate would); the first reading's time is kept."""
    with db.session() as s:
        for key in dict.fromkeys(k.strip() for k in raters if k and k.strip()):
            rater = s.scalar(select(Rater).where(Rater.key == key))
            if rater is None:
                rater = Rater(key=key)
                s.add(rater)
            if rater.instructions_seen_at is None:
                rater.instructions_seen_at = utcnow()
