"""Which votes files have been imported, and which stopped part-way (Qt-free).

A ratings import writes its votes in bounded transactions (app.core.ratings.csv_import), so a
crash or Ctrl+C can leave part of a file stored. Its row here then stays unfinished: ``ratings
mos`` and ``export`` say so, and importing the same file again (same content) resumes it: the
votes already stored are recognised as duplicates and skipped, the row is marked finished."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select, update

from ..store.database import Database
from ..store.schema import RatingsImport, utcnow


def file_fingerprint(path: Path) -> str:
    """The SHA-256 of the file's content, read in blocks: the same file under another name or
    folder is the same import."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def begin_import(s, source: str, fingerprint: str) -> tuple[int, int | None]:
    """The import's row: an unfinished one of the same file (resumed; also the votes it had
    stored), or a new one (None)."""
    stopped = s.scalars(select(RatingsImport).where(RatingsImport.fingerprint == fingerprint,
                                                    RatingsImport.finished_at.is_(None))
                        .order_by(RatingsImport.id.desc())).first()
    if stopped is not None:
        return stopped.id, stopped.votes_added
    row = RatingsImport(source=source, fingerprint=fingerprint, votes_added=0)
    s.add(row)
    s.flush()
    return row.id, None


def record_votes(s, import_id: int, added: int) -> None:
    """Counted in the same transaction as the votes themselves, so the count is always what is stored."""
    s.execute(update(RatingsImport).where(RatingsImport.id == import_id)
              .values(votes_added=RatingsImport.votes_added + added))


def finish_import(s, fingerprint: str) -> None:
    """Every unfinished import of this file is now complete (a rerun completes them all)."""
    s.execute(update(RatingsImport).where(RatingsImport.fingerprint == fingerprint,
                                          RatingsImport.finished_at.is_(None)).values(finished_at=utcnow()))


def unfinished_imports(db: Database) -> list[str]:
    """One line per import that stopped part-way, for the ratings commands to print."""
    def read():
        with db.session() as s:
            return list(s.execute(select(RatingsImport.source, RatingsImport.started_at, RatingsImport.votes_added)
                                  .where(RatingsImport.finished_at.is_(None)).order_by(RatingsImport.id)))

    return [f"warning: the import of {source} started {started:%Y-%m-%d %H:%M} stopped part-way ({added} vote(s) "
            "stored): import the same file again to finish it" for source, started, added in db.run(read)]
