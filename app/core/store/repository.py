"""What the app asks of the database, each call one short transaction."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..calibration import Calibration
from ..model.contract import model_identity
from ..verdict import Thresholds
from .chunks import CHUNK_ROWS, PATHS_PER_QUERY, keyset, unindexed
from .database import Database
from .schema import Image, ModelVersion, Score, ThresholdProfile, utcnow


@dataclass(frozen=True)
class ScoreRecord:
    """What one scoring attempt produced: a score, or the reason there is none."""

    path: str
    status: str  # "ok" or an image-loading error kind (corrupt, empty, ...)
    score: float | None = None
    opinions: list[float] | None = None
    seconds: float | None = None
    error: str | None = None
    raw_score: float | None = None  # before calibration (None: same as score)
    embedding: list[float] | None = None
    pooled_stages: np.ndarray | None = None  # half floats (the engine rounds them so, as they are stored)
    content_hash: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    source: str = "folder"


def insert_if_absent(s, table, key: list[str], values: dict) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: two stations storing the same photo at the same moment
    both succeed and leave one row (a select-then-insert lets the second fail on the unique key)."""
    insert = postgresql_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=key))


def register_model(db: Database, card: dict, path: str, origin: str | None = None,
                   approved_by: str | None = None) -> int:
    """The id of the model version with this card's identity (``model_contract.model_identity``:
    the graphs' hashes and every card field that changes a score), registering it on first sight.

    ``origin`` and ``approved_by`` record why the station runs it (app.core.model.trust decides);
    an existing approval is kept, never overwritten."""
    identity = model_identity(card)
    with db.session() as s:
        insert_if_absent(s, ModelVersion.__table__, ["sha256"],
                         dict(name=card["name"], version=str(card["version"]), sha256=identity, path=path,
                              card=card, registered_at=utcnow(), active=False))
        mv = s.scalar(select(ModelVersion).where(ModelVersion.sha256 == identity))
        # The path other stations load it from changes only with a site's choice (mark_active).
        if approved_by and mv.approved_by is None:
            mv.card, mv.origin, mv.approved_by, mv.approved_at = card, origin, approved_by, utcnow()
        return mv.id


def model_approval(db: Database, card: dict) -> tuple[str, str] | None:
    """(origin, approved by) when this station trusts exactly this model: its identity (graphs
    and every card field that changes a score) is the one approved."""
    with db.session() as s:
        mv = s.scalar(select(ModelVersion).where(ModelVersion.sha256 == model_identity(card),
                                                 ModelVersion.approved_by.is_not(None)))
        return None if mv is None else (mv.origin, mv.approved_by)


def active_thresholds(db: Database, model_version_id: int) -> Thresholds:
    with db.session() as s:
        return thresholds_in_force(s, model_version_id)


def active_profile(db: Database, model_version_id: int) -> str | None:
    """The name of the version's threshold profile in force (None: the defaults, never saved)."""
    with db.session() as s:
        return s.scalar(select(ThresholdProfile.name).where(ThresholdProfile.model_version_id == model_version_id,
                                                            ThresholdProfile.active.is_(True)))


def threshold_profiles(db: Database, model_version_id: int) -> list[ThresholdProfile]:
    """The version's saved profiles, the latest change first: each with its thresholds, whether it
    is in force, and who saved it last and when (``changed_at`` None before 0011: ``created_at``)."""
    with db.session() as s:
        rows = s.scalars(select(ThresholdProfile).where(ThresholdProfile.model_version_id == model_version_id)).all()
        s.expunge_all()  # read after the session closes
    return sorted(rows, key=lambda p: p.changed_at or p.created_at, reverse=True)


def thresholds_in_force(s, model_version_id: int) -> Thresholds:
    """The version's active profile (the defaults without one), read in the session ``s``."""
    p = s.scalar(select(ThresholdProfile).where(ThresholdProfile.model_version_id == model_version_id,
                                                ThresholdProfile.active.is_(True)))
    return Thresholds(p.pass_at, p.fail_below) if p else Thresholds()


def record_score(db: Database, model_version_id: int, rec: ScoreRecord) -> None:
    """Insert or update the (image, model) score row: a rerun, or a second station, never
    duplicates it.

    Its verdict follows the thresholds in force when it is written, read in the same transaction:
    never ones a batch captured when it began. On PostgreSQL the version's row is share-locked
    first, so a supervisor's save (which locks it for update, then recomputes every stored
    verdict) either waits for this row and recomputes it, or comes first and this row reads its
    thresholds; on SQLite, a save between this read and this write makes the write fail as busy,
    and ``Database.run`` redoes it."""
    with db.session() as s:
        s.execute(select(ModelVersion.id).where(ModelVersion.id == model_version_id).with_for_update(read=True))
        thresholds = thresholds_in_force(s, model_version_id)
        now = utcnow()
        insert_if_absent(s, Image.__table__, ["path"],
                         dict(path=rec.path, source=rec.source, first_seen=now, last_seen=now))
        image = s.scalar(select(Image).where(Image.path == rec.path))
        for field in ("content_hash", "size_bytes", "width", "height"):
            if getattr(rec, field) is not None:
                setattr(image, field, getattr(rec, field))
        image.last_seen = now
        insert_if_absent(s, Score.__table__, ["image_id", "model_version_id"],
                         dict(image_id=image.id, model_version_id=model_version_id, status=rec.status, scored_at=now))
        row = s.scalar(select(Score).where(Score.image_id == image.id, Score.model_version_id == model_version_id))
        row.status, row.score, row.opinions = rec.status, rec.score, rec.opinions
        row.raw_score = rec.raw_score if rec.raw_score is not None else rec.score
        row.embedding = rec.embedding
        row.pooled_stages = _stages_to_bytes(rec.pooled_stages)
        row.seconds, row.error, row.scored_at = rec.seconds, rec.error, now
        row.verdict = thresholds.verdict(rec.score) if rec.score is not None else None


def save_thresholds(db: Database, model_version_id: int, name: str, thresholds: Thresholds,
                    changed_by: str | None = None) -> None:
    """Save and activate a profile, then recompute every stored verdict of that model (no rescoring).
    ``changed_by``: the person who saved it, recorded with when.

    Supervisors at two stations saving at once are taken one after the other (the version's row
    is locked first on PostgreSQL; SQLite has one writer): both succeed, the later one is in force."""
    with db.session() as s:
        s.execute(select(ModelVersion.id).where(ModelVersion.id == model_version_id).with_for_update())
        s.execute(
            update(ThresholdProfile).where(ThresholdProfile.model_version_id == model_version_id).values(active=False)
        )
        insert_if_absent(s, ThresholdProfile.__table__, ["model_version_id", "name"],
                         dict(model_version_id=model_version_id, name=name, pass_at=thresholds.pass_at,
                              fail_below=thresholds.fail_below, active=False, created_at=utcnow()))
        p = s.scalar(
            select(ThresholdProfile).where(ThresholdProfile.model_version_id == model_version_id, ThresholdProfile.name == name)
        )
        p.pass_at, p.fail_below, p.active = thresholds.pass_at, thresholds.fail_below, True
        p.changed_by, p.changed_at = changed_by, utcnow()
        judge_stored(s, model_version_id, thresholds)


def judge_stored(s, model_version_id: int, thresholds: Thresholds) -> None:
    """Every stored score of the version judged again by ``thresholds`` (one UPDATE, no rescoring),
    in the session ``s``."""
    s.execute(update(Score).where(Score.model_version_id == model_version_id, Score.score.is_not(None))
              .values(verdict=verdict_of(Score.score, thresholds)))


def verdict_of(score, thresholds: Thresholds):
    """``Thresholds.verdict`` in SQL, for statements that judge every stored score in the database."""
    return case((score >= thresholds.pass_at, "pass"), (score < thresholds.fail_below, "fail"), else_="review")


def scored_paths(db: Database, model_version_id: int) -> set[str]:
    """Paths this model already has a row for (a resumed batch skips them)."""
    with db.session() as s:
        rows = s.execute(
            select(Image.path).join(Score).where(Score.model_version_id == model_version_id)
        )
        return {r[0] for r in rows}


def stored_ok(db: Database, model_version_id: int, paths: Iterable[str] | None = None,
              under: str | None = None) -> dict[str, tuple[str | None, ScoreRecord]]:
    """path -> (content hash, stored result) of every photo this model scored successfully: a
    folder opened again skips what is scored *and unchanged* (same content), rescoring the rest.

    ``paths``: only those (an archive's chunk asks for its own few hundred, never for a million
    rows); ``under``: only photos in that folder and below (a window opening one folder of a large
    shared database)."""
    query = (select(Image.path, Image.content_hash, Image.size_bytes, Image.width, Image.height, Image.source,
                    Score.score, Score.opinions, Score.seconds, Score.raw_score, Score.embedding)
             .join(Score).where(Score.model_version_id == model_version_id, Score.status == "ok"))
    if paths is not None:
        query = query.where(Image.path.in_(list(paths)))
    if under is not None:
        query = query.where(Image.path.startswith(under.rstrip(os.sep) + os.sep, autoescape=True))
    with db.session() as s:
        rows = s.execute(query)
        return {
            r.path: (r.content_hash, ScoreRecord(r.path, "ok", r.score, r.opinions, r.seconds, raw_score=r.raw_score,
                                                 embedding=r.embedding, content_hash=r.content_hash,
                                                 size_bytes=r.size_bytes, width=r.width, height=r.height,
                                                 source=r.source))
            for r in rows
        }


def stored_since(db: Database, model_version_id: int, paths: Iterable[str], since: datetime) -> int:
    """How many of ``paths`` have a row of this model written at ``since`` or later: what a run
    that began then stored of them, whichever attempt stored it (one whose process died included)."""
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Score).join(Image).where(
            Score.model_version_id == model_version_id, Score.scored_at >= since, Image.path.in_(list(paths))))


def verdict_counts(db: Database, model_version_id: int) -> dict[str, int]:
    with db.session() as s:
        rows = s.execute(
            select(func.coalesce(Score.verdict, Score.status), func.count())
            .where(Score.model_version_id == model_version_id)
            .group_by(func.coalesce(Score.verdict, Score.status))
        )
        return {k: n for k, n in rows}


def score_rows(db: Database, model_version_id: int, paths: Iterable[str] | None = None) -> list[dict]:
    """The stored results of one model, for export: path, score, verdict, status, error, ...;
    ``paths``: only those photos (a gallery's few hundred, looked up PATHS_PER_QUERY at a time,
    never a shared database's million rows read to keep a few), ordered by path like the rest."""
    query = (select(Image.path, Score.score, Score.verdict, Score.status, Score.error, Score.opinions, Score.scored_at)
             .join(Score).where(Score.model_version_id == model_version_id))
    with db.session() as s:
        mv = s.get(ModelVersion, model_version_id)
        if paths is None:
            rows = list(s.execute(query.order_by(Image.path)))
        else:
            rows = sorted(_of_photos(s, query, paths), key=lambda r: r.path)
        return [
            {
                "path": r.path, "score": None if r.score is None else round(r.score, 2), "verdict": r.verdict,
                "status": r.status, "error": r.error,
                "opinions": None if r.opinions is None else " ".join(f"{o:.1f}" for o in r.opinions),
                "model": mv.name, "model_version": mv.version, "model_sha256": mv.sha256, "scored_at": r.scored_at.isoformat(timespec="seconds"),
            }
            for r in rows
        ]


def rename_image(db: Database, old_path: str, new_path: str) -> bool:
    """A photo moved or renamed on disk keeps its scores under the new path (no rescoring)."""
    with db.session() as s:
        image = s.scalar(select(Image).where(Image.path == old_path))
        if image is None or s.scalar(select(Image.id).where(Image.path == new_path)) is not None:
            return False
        image.path = new_path
        return True


@dataclass(frozen=True)
class VersionRow:
    """One registered model version with the figures its card carries, each with its own n:
    the LIVEC validation (the shipped recipe's) and, for a site fine-tune, the site's validation
    (which chose its epoch) and test (before/after, with the gain's 95 % interval)."""

    id: int
    name: str
    version: str
    path: str
    registered_at: datetime
    active: bool
    srcc_before: float | None  # site test, parent -> this version
    srcc_after: float | None
    val_srcc: float | None  # LIVEC validation
    val_n: int | None = None
    site_val_srcc: float | None = None
    site_val_n: int | None = None
    site_test_n: int | None = None
    site_gain_ci: tuple[float, float] | None = None
    sha256: str = ""
    origin: str | None = None
    approved_by: str | None = None
    parent_identity: str | None = None
    thresholds: tuple[float, float] | None = None  # its own active profile (pass at, fail below)


def _livec_validation(card: dict) -> tuple[float | None, int | None]:
    """The card's LIVEC validation SRCC and n (a site fine-tune claims none)."""
    block = (card.get("evaluations") or {}).get("validation") or {}
    if block.get("srcc") is not None:
        return block["srcc"], block.get("n")
    metrics = card.get("metrics") or {}
    n = metrics.get("n")
    if n is None:  # older cards name it in the training data: "... (790 train / 140 val, ..."
        found = re.search(r"/ (\d+) val\b", str((card.get("training") or {}).get("data") or ""))
        n = int(found.group(1)) if found else None
    return metrics.get("val_srcc"), n


def model_versions(db: Database) -> list[VersionRow]:
    """Every registered model, newest first, with the figures its card carries."""
    with db.session() as s:
        rows = s.scalars(select(ModelVersion).order_by(ModelVersion.registered_at.desc(), ModelVersion.id.desc())).all()
        profiles = {p.model_version_id: (p.pass_at, p.fail_below)
                    for p in s.scalars(select(ThresholdProfile).where(ThresholdProfile.active.is_(True)))}
        out = []
        for mv in rows:
            card = mv.card or {}
            site = card.get("site_evaluation") or {}
            test = site.get("test") or {}
            metrics = card.get("metrics") or {}
            val_srcc, val_n = _livec_validation(card)
            gain_ci = test.get("gain_ci")
            out.append(VersionRow(
                mv.id, mv.name, mv.version, mv.path, mv.registered_at, bool(mv.active),
                (site.get("before") or {}).get("srcc"), (site.get("after") or {}).get("srcc"),
                val_srcc, val_n, metrics.get("site_val_srcc"), metrics.get("site_val_n"),
                site.get("held_out") if site else None, tuple(gain_ci) if gain_ci else None,
                mv.sha256, mv.origin, mv.approved_by, parent_identity(card), profiles.get(mv.id),
            ))
        return out


def parent_identity(card: dict) -> str | None:
    """The identity of the version a fine-tuned card was made from (cards before identities
    named only their parent's graph, which then matches no version)."""
    parent = card.get("parent") or {}
    return parent.get("identity")


def mark_active(db: Database, model_version_id: int, path: str | None = None, chosen_by: str | None = None) -> None:
    """Make this the version the site runs (one at a time; every station sharing the database
    follows it, loading it from ``path`` when given); thresholds and calibration stay per version.
    ``chosen_by``: the supervisor who chose it, recorded with when."""
    with db.session() as s:
        s.execute(update(ModelVersion).values(active=False))
        values = ({"active": True} | ({"path": path} if path else {})
                  | ({"chosen_by": chosen_by, "chosen_at": utcnow()} if chosen_by else {}))
        s.execute(update(ModelVersion).where(ModelVersion.id == model_version_id).values(**values))


def active_version(db: Database) -> int | None:
    """The version the site runs, if one was chosen."""
    with db.session() as s:
        return s.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)).order_by(ModelVersion.id.desc()))


def model_calibration(db: Database, model_version_id: int) -> Calibration | None:
    with db.session() as s:
        data = s.scalar(select(ModelVersion.calibration).where(ModelVersion.id == model_version_id))
    return Calibration.from_json(data) if data else None


STAGES_DTYPE = "<f2"  # how pooled stages are stored: half floats, little-endian on every station


def _stages_to_bytes(values: np.ndarray | None) -> bytes | None:
    return None if values is None else np.asarray(values).astype(STAGES_DTYPE).tobytes()


def _stages_from_bytes(data: bytes | None) -> np.ndarray | None:
    """The stored pooled stages, or None where there are none or they are damaged (a torn write,
    non-finite bits): read as missing, never as numbers that would make a score NaN."""
    if data is None or len(data) % np.dtype(STAGES_DTYPE).itemsize:
        return None
    values = np.frombuffer(data, STAGES_DTYPE).astype(np.float64)
    return values if np.isfinite(values).all() else None


def calibration_rows(db: Database, model_version_id: int,
                     paths: Iterable[str]) -> list[tuple[str, list, float, np.ndarray | None]]:
    """(path, embedding, raw score, pooled stages or None) of the given photos' scores by this
    model that have an embedding and a raw score. ``paths`` are the rated photos (a site's few
    hundred): the database finds their rows by path, so none of the version's other scores (a
    shared database's million, each with its embedding) is ever read, where filtering them in
    Python held 88 MB at 20,000 rows."""
    query = (select(Image.path, Score.embedding, Score.raw_score, Score.pooled_stages).join(Score)
             .where(Score.model_version_id == model_version_id, Score.status == "ok",
                    Score.embedding.is_not(None), Score.raw_score.is_not(None)))
    with db.session() as s:
        return [(p, e, r, _stages_from_bytes(st)) for p, e, r, st in _of_photos(s, query, paths)]


def _of_photos(session, query, paths: Iterable[str]):
    """``query``'s rows for the photos at ``paths`` only, PATHS_PER_QUERY paths a statement (the
    unique index on the path finds each; one IN list of thousands would pass SQLite's limit)."""
    wanted = sorted(set(paths))
    for at in range(0, len(wanted), PATHS_PER_QUERY):
        yield from session.execute(query.where(Image.path.in_(wanted[at:at + PATHS_PER_QUERY])))


def rescore_stored(db: Database, model_version_id: int, calibration: Calibration | None, thresholds: Thresholds,
                   calibrated_by: str | None = None, chunk: int = CHUNK_ROWS) -> int:
    """Save the version's calibration (with who applied or removed it, and when) and recompute
    its stored scores and verdicts from raw scores (and embeddings): one transaction, so a crash
    leaves the old scores whole. Returns how many stored scores were recomputed.

    A shared database holds a million scores of a version, so no row becomes a Python object
    unless it must: removing a calibration is one UPDATE the database runs alone (every score is
    its raw score again); applying one reads ``chunk`` rows at a time (id, raw score, embedding)
    and writes each chunk's new scores back by primary key (docs/benchmarks.md)."""
    scores = Score.__table__  # Core, not the ORM: no object, no identity map, per row
    of_version = (scores.c.model_version_id == model_version_id, scores.c.raw_score.is_not(None))
    chunked = (unindexed(scores.c.model_version_id) == model_version_id, scores.c.raw_score.is_not(None))
    with db.session() as s:
        s.execute(update(ModelVersion).where(ModelVersion.id == model_version_id)
                  .values(calibration=calibration.to_json() if calibration else None,
                          calibrated_by=calibrated_by, calibrated_at=utcnow()))
        if calibration is None:
            return s.execute(update(scores).where(*of_version).values(
                score=scores.c.raw_score, verdict=verdict_of(scores.c.raw_score, thresholds))).rowcount
        write = (update(scores).where(scores.c.id == bindparam("row"))
                 .values(score=bindparam("new_score"), verdict=bindparam("new_verdict")))
        changed = 0
        columns = (scores.c.id, scores.c.raw_score, scores.c.embedding, scores.c.pooled_stages)
        for rows in keyset(s, select(*columns).where(*chunked), scores.c.id, chunk):
            rows = [(row, raw, embedding, _stages_from_bytes(stages)) for row, raw, embedding, stages in rows]
            # A score stored without what the calibration reads (scored before embeddings or
            # pooled stages were kept) keeps its raw score.
            values = {row: raw for row, raw, embedding, stages in rows if not calibration.can_read(embedding, stages)}
            readable = [r for r in rows if r[0] not in values]
            if readable:  # one matrix product a chunk: a kernel calibration reads its whole support per photo
                ids, raws, embeddings, stages = zip(*readable)
                values.update(zip(ids, calibration.apply_many(embeddings, raws, stages).tolist()))
            # of dicts of numbers and strings, which the collector does not even track
            new = [{"row": row, "new_score": value, "new_verdict": thresholds.verdict(value)} for row, value in values.items()]
            if new:
                s.execute(write, new)  # one executemany per chunk, once its rows are all read
            changed += len(new)
        return changed
