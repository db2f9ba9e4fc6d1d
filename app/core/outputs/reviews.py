"""An inspector's review of a scored photo: looked at, or the verdict overridden (accepted /
rejected) with an optional reason. Every decision is kept with who and when (append-only); the
latest per photo and model version is the one in force, shown as a badge and exported."""
from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from ..store.chunks import PATHS_PER_QUERY
from ..store.database import Database
from ..verdict import DECIDED, in_force
from .reason_codes import MAX_CODE, reason_label
from ..store.schema import Image, Review

# "cleared" withdraws the photo's decision (an undo back to none): rows are never deleted.
DECISIONS = ("reviewed", "accepted", "rejected", "cleared")


@dataclass(frozen=True)
class ReviewState:
    decision: str  # reviewed, accepted, rejected
    reviewer: str
    at: datetime
    reason: str | None = None  # free text
    reason_code: str | None = None  # the site's code (blur, exposure, ... other)

    @property
    def overridden(self) -> bool:
        return self.decision in DECIDED

    @property
    def why(self) -> str:
        """The reason as it reads: "blur", "other: scratch on the lens", or the text alone."""
        return reason_label(self.reason_code, self.reason)


def current_reviewer() -> str:
    """Who is at the station (the operating-system account) when no name was given."""
    try:
        return getpass.getuser()
    except Exception:  # no account name in this environment
        return "unknown"


def add_review(db: Database, model_version_id: int, path: str, decision: str, reason: str | None = None,
               reviewer: str | None = None, reason_code: str | None = None) -> ReviewState:
    if decision not in DECISIONS:
        raise ValueError(f"unknown review decision {decision!r}: one of {', '.join(DECISIONS)}")
    with db.session() as s:
        image = s.execute(select(Image.id, Image.content_hash).where(Image.path == path)).first()
        if image is None:
            raise ValueError(f"{path}: not in the database (score it first)")
        row = Review(image_id=image.id, model_version_id=model_version_id, decision=decision,
                     reason=(reason or "").strip() or None, reviewer=reviewer or current_reviewer(),
                     reason_code=(reason_code or "").strip().lower()[:MAX_CODE] or None,
                     content_hash=image.content_hash)
        s.add(row)
        s.commit()
        return ReviewState(row.decision, row.reviewer, row.created_at, row.reason, row.reason_code)


def add_reviews(db: Database, model_version_id: int, decisions: list[tuple[str, str, str | None, str | None]],
                reviewer: str | None = None) -> dict[str, ReviewState | None]:
    """One decision on many photos (an inspector's selection), in one transaction: all stored or
    none, so a batch decision is never half on record. ``decisions``: (path, decision, reason,
    reason code) each. Returns, for each path, the decision it replaced (None: none), which is
    what an undo of the batch puts back."""
    for _, decision, _, _ in decisions:
        if decision not in DECISIONS:
            raise ValueError(f"unknown review decision {decision!r}: one of {', '.join(DECISIONS)}")
    paths = [path for path, *_ in decisions]
    before = _in_force(db)
    reviewer = reviewer or current_reviewer()
    with db.session() as s:
        query = select(Image.path, Image.id, Image.content_hash)
        images = {r.path: r for at in range(0, len(paths), PATHS_PER_QUERY)
                  for r in s.execute(query.where(Image.path.in_(paths[at:at + PATHS_PER_QUERY])))}
        missing = [p for p in paths if p not in images]
        if missing:
            raise ValueError(f"{missing[0]}: not in the database (score it first)")
        for path, decision, reason, code in decisions:
            s.add(Review(image_id=images[path].id, model_version_id=model_version_id, decision=decision,
                         reason=(reason or "").strip() or None, reviewer=reviewer,
                         reason_code=(code or "").strip().lower()[:MAX_CODE] or None,
                         content_hash=images[path].content_hash))
        s.commit()
    return {path: before.get(path) for path in paths}


def _in_force(db: Database, path: str | None = None) -> dict[str, ReviewState]:
    """path -> the latest decision on each reviewed photo (or on ``path`` alone), whichever model
    version was in force then, unless another file has since taken its path or it was withdrawn."""
    latest = select(func.max(Review.id)).group_by(Review.image_id)
    if path is not None:
        latest = latest.join(Image, Image.id == Review.image_id).where(Image.path == path)
    same_content = or_(Review.content_hash.is_(None), Image.content_hash.is_(None),
                       Review.content_hash == Image.content_hash)
    with db.session() as s:
        rows = s.execute(select(Image.path, Review.decision, Review.reviewer, Review.created_at, Review.reason,
                                Review.reason_code)
                         .join(Review, Review.image_id == Image.id)
                         .where(Review.id.in_(latest.scalar_subquery()), same_content))
        return {r.path: ReviewState(r.decision, r.reviewer, r.created_at, r.reason, r.reason_code) for r in rows
                if r.decision != "cleared"}


def current_reviews(db: Database) -> dict[str, ReviewState]:
    """path -> the review in force for every reviewed photo (a decision is about the photo)."""
    return _in_force(db)


def review_of(db: Database, path: str) -> ReviewState | None:
    """The decision in force on one photo (None: none, or withdrawn)."""
    return _in_force(db, path).get(path)


def with_reviews(rows: list[dict], reviews: dict[str, ReviewState]) -> list[dict]:
    """Export rows with the review in force (review, review_reason_code, review_reason (the free
    text), reviewed_by, reviewed_at) and
    the disposition: the model's verdict unless a person accepted or rejected the photo; empty
    for a file that could not be scored."""
    out = []
    for r in rows:
        rv = reviews.get(r["path"])
        disposition = in_force(r.get("verdict"), rv.decision if rv else None) if r.get("status") == "ok" else None
        out.append(r | {"disposition": disposition or "",
                        "review": rv.decision if rv else "", "review_reason_code": (rv.reason_code or "") if rv else "",
                        "review_reason": (rv.reason or "") if rv else "",
                        "reviewed_by": rv.reviewer if rv else "",
                        "reviewed_at": rv.at.isoformat(timespec="seconds") if rv else ""})
    return out
