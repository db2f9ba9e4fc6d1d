"""The database schema (SQLAlchemy 2 ORM). Changes go through a new Alembic migration."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Image(Base):
    """A photo the program has seen, by path; the content hash tells a changed file."""

    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32), default="folder")  # folder, camera, cli
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    scores: Mapped[list[Score]] = relationship(back_populates="image", cascade="all, delete-orphan")


class ModelVersion(Base):
    """A registered model: its card and hash; calibration and thresholds hang off it."""

    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    # The model's identity (model_contract.model_identity: its graphs' hashes and every card
    # field that changes a score), not only its main graph's hash (before migration 0008).
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(4096))
    card: Mapped[dict] = mapped_column(JSON)
    calibration: Mapped[dict | None] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=False)
    # Why this station runs it (app.core.model.trust): shipped, fine-tuned or approved; None:
    # registered before trust was recorded, so it needs an approval before it runs again.
    origin: Mapped[str | None] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column()
    # Who made it the site's version, and who last applied or removed its calibration (0011).
    chosen_by: Mapped[str | None] = mapped_column(String(255))
    chosen_at: Mapped[datetime | None] = mapped_column()
    calibrated_by: Mapped[str | None] = mapped_column(String(255))
    calibrated_at: Mapped[datetime | None] = mapped_column()


class Score(Base):
    """One image scored by one model version (at most one row per pair: reruns update it)."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("image_id", "model_version_id", name="uq_score_image_model"),
        Index("ix_scores_model_score", "model_version_id", "score"),
        Index("ix_scores_model_verdict", "model_version_id", "verdict"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))  # ok, or an image-loading error kind
    score: Mapped[float | None] = mapped_column(Float)  # shown and judged: calibrated when a calibration is applied
    raw_score: Mapped[float | None] = mapped_column(Float)  # the model's own output
    embedding: Mapped[list | None] = mapped_column(JSON)  # what a site calibration is fitted on
    # The backbone's pooled stages (models whose graph gives them), read by a site calibration
    # beside the embedding: half floats, 864 bytes for 432 values (as JSON numbers ~4 KB).
    pooled_stages: Mapped[bytes | None] = mapped_column(LargeBinary)
    opinions: Mapped[list | None] = mapped_column(JSON)
    verdict: Mapped[str | None] = mapped_column(String(16))
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    image: Mapped[Image] = relationship(back_populates="scores")


class ThresholdProfile(Base):
    """A supervisor's pass/fail thresholds for one model version; one is active per version."""

    __tablename__ = "threshold_profiles"
    __table_args__ = (UniqueConstraint("model_version_id", "name", name="uq_profile_model_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    pass_at: Mapped[float] = mapped_column(Float)
    fail_below: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(255))  # who saved it last (None before 0011)
    changed_at: Mapped[datetime | None] = mapped_column()


class Operator(Base):
    """A person who works at the station (app.core.site.operators), by the name or badge id they
    sign in with; ``key`` is that name folded, so "Ana" and "ana " are one person. A supervisor
    may change thresholds, model versions and the calibration; the optional PIN (salted PBKDF2)
    guards against a slip, it is no access control."""

    __tablename__ = "operators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # operator, supervisor
    pin_salt: Mapped[str | None] = mapped_column(String(64))
    pin_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in: Mapped[datetime | None] = mapped_column()


class Rater(Base):
    """A person who rates photos; identified by the id they sign in with (no password)."""

    __tablename__ = "raters"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    instructions_seen_at: Mapped[datetime | None] = mapped_column()  # read how to rate (app.ui.rater_help)


class ReasonCode(Base):
    """One of the site's reason codes for a decision, in the order offered; every station reads
    the same list (app.core.outputs.reason_codes). No rows: the defaults."""

    __tablename__ = "reason_codes"
    position: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    changed_by: Mapped[str | None] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class RatingSession(Base):
    """One sitting of a rater, with the display conditions the votes were given under."""

    __tablename__ = "rating_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    display: Mapped[dict | None] = mapped_column(JSON)


class Review(Base):
    """An inspector's decision on one photo: ``reviewed`` (looked at), ``accepted`` or ``rejected``
    (overriding the verdict), with who, when, why, the model version then in force and the content
    it was made on. Never updated: a change of mind is a new row, the latest one is in force, under
    every model version, until another file takes the photo's path."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_image_model", "image_id", "model_version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))
    # A site's code for why (blur, exposure, ... other); None on decisions made before codes.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)  # free text: what the code does not say
    reviewer: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # the photo's content when decided


class Vote(Base):
    """One raw ACR vote (1 Bad .. 5 Excellent). Never updated or deleted: an undo is recorded by
    setting ``withdrawn_at``, so every answer ever given stays in the database."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_image", "image_id"), Index("ix_votes_rater", "rater_id"),
                      Index("ix_votes_rater_image", "rater_id", "image_id"))  # an import's duplicate check
    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("rating_sessions.id", ondelete="SET NULL"))
    value: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="normal")  # normal, training, gold
    response_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


class RatingsImport(Base):
    """One ``ratings import`` of a votes file, identified by its content's SHA-256. Its votes are
    written in bounded transactions, so a stop part-way leaves ``finished_at`` empty: the file is
    then said to be incomplete until the same file is imported again, which skips what is stored."""

    __tablename__ = "ratings_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(1024))  # the file's name, for messages
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    votes_added: Mapped[int] = mapped_column(Integer, default=0)


class RatingOrder(Base):
    """A rater's own random order over a batch, saved so a restart resumes at the same place."""

    __tablename__ = "rating_orders"
    __table_args__ = (UniqueConstraint("rater_id", "batch", "position", name="uq_order_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id", ondelete="CASCADE"))
    batch: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="normal")  # normal, training, gold


class GoldImage(Base):
    """A photo with a known answer, hidden among the rest: a rater's votes on it are checked."""

    __tablename__ = "gold_images"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    expected: Mapped[int] = mapped_column(Integer)
    tolerance: Mapped[int] = mapped_column(Integer, default=1)


class PracticeAnswer(Base):
    """The answer shown with a practice (training) photo. A lesson, never a check: the same photo
    rated later as a normal photo is an opinion like any other (kept apart from GoldImage, whose
    answers screening holds raters to)."""

    __tablename__ = "practice_answers"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    expected: Mapped[int] = mapped_column(Integer)


class Skip(Base):
    """A photo a rater could not rate because it could not be shown (the file is gone or no
    longer decodes): recorded with why, never as a vote. Withdrawn by an undo, like a vote."""

    __tablename__ = "skips"
    __table_args__ = (Index("ix_skips_rater", "rater_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("rating_sessions.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column()


class Thumbnail(Base):
    """The gallery's thumbnail of a photo's content (a ~5 KB JPEG), so a folder opened again
    shows its scored photos without decoding them (a 12 MP JPEG's preview costs ~70 ms). Keyed by
    the content hash too: a changed file never shows the old picture."""

    __tablename__ = "thumbnails"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
