"""A rater's labeling session after ITU-T P.910 / P.913 ACR (Qt-free; the panel is a thin view).

- Five labelled levels; an answer is required to move on; the last vote can be undone (the vote
  is withdrawn, never deleted).
- Each rater gets their own random order of the batch, saved in the database, so a restart
  resumes at the first photo they have not answered; training photos (with their expected
  answers shown) come first; hidden gold photos are mixed in among the rest.
- Every vote is stored raw, with its rater, session (display conditions), kind and response time.
- A photo that cannot be shown (gone, or no longer decodes) cannot be voted on: the rater skips it,
  recorded as a skip with the reason, never as a vote. It is not offered again in that sitting;
  it comes back once, after every other photo, at the rater's next sitting (the file may have
  been restored by then), so a broken file never blocks a rater and a passing fault loses no
  answer. Undo withdraws the last vote or skip, whichever came last.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from sqlalchemy import func, select

from ..store.database import Database
from .mos import image_mos
from .screening import screen
from ..store.schema import (
    GoldImage,
    Image,
    PracticeAnswer,
    Rater,
    RatingOrder,
    RatingSession,
    Skip,
    Vote,
    utcnow,
)

ACR_LEVELS = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}


@dataclass(frozen=True)
class Item:
    position: int
    image_id: int
    path: str
    kind: str  # normal, training, gold
    expected: int | None = None  # shown for training items only
    skipped_before: bool = False  # skipped at an earlier sitting (it could not be shown), offered again


def _image_id(s, path: str) -> int:
    image = s.scalar(select(Image).where(Image.path == path))
    if image is None:
        image = Image(path=path, source="labeling")
        s.add(image)
        s.flush()
    return image.id


class LabelingSession:
    def __init__(
        self,
        db: Database,
        rater_key: str,
        batch: str,
        photos: list[str],
        training: list[tuple[str, int]] = (),
        gold: list[tuple[str, int, int]] = (),
        display: dict | None = None,
    ):
        if not rater_key.strip():
            raise ValueError("a rater id is required")
        self.db, self.batch = db, batch
        with db.session() as s:
            rater = s.scalar(select(Rater).where(Rater.key == rater_key))
            if rater is None:
                rater = Rater(key=rater_key)
                s.add(rater)
                s.flush()
            self.rater_id = rater.id
            session = RatingSession(rater_id=rater.id, display=display)
            s.add(session)
            s.flush()
            self.session_id = session.id
            exists = s.scalar(select(func.count()).select_from(RatingOrder).where(
                RatingOrder.rater_id == rater.id, RatingOrder.batch == batch))
            if not exists:
                self._create_order(s, rater_key, photos, training, gold)

    def _create_order(self, s, rater_key, photos, training, gold) -> None:
        for path, expected, tolerance in gold:
            image_id = _image_id(s, path)
            if s.get(GoldImage, image_id) is None:
                s.add(GoldImage(image_id=image_id, expected=expected, tolerance=tolerance))
        for path, expected in training:
            image_id = _image_id(s, path)
            # Shown to the rater, so never a gold check: the photo may be rated as a normal one later.
            if s.get(PracticeAnswer, image_id) is None:
                s.add(PracticeAnswer(image_id=image_id, expected=expected))
        # Seeded by rater and batch: the order is the rater's own and the same after a restart.
        seed = int.from_bytes(hashlib.sha256(f"{rater_key}\0{self.batch}".encode()).digest()[:8], "big")
        rest = [(p, "normal") for p in photos] + [(p, "gold") for p, _, _ in gold]
        random.Random(seed).shuffle(rest)
        ordered = [(p, "training") for p, _ in training] + rest
        for position, (path, kind) in enumerate(ordered):
            s.add(RatingOrder(rater_id=self.rater_id, batch=self.batch, position=position,
                              image_id=_image_id(s, path), kind=kind))

    def _answered(self, s) -> set[int]:
        return set(s.scalars(select(Vote.image_id).where(
            Vote.rater_id == self.rater_id, Vote.withdrawn_at.is_(None))))

    def _skips(self, s) -> dict[int, set[int | None]]:
        """image id -> the sittings in which this rater skipped it (standing skips only)."""
        out: dict[int, set[int | None]] = {}
        for image_id, session_id in s.execute(select(Skip.image_id, Skip.session_id).where(
                Skip.rater_id == self.rater_id, Skip.withdrawn_at.is_(None))):
            out.setdefault(image_id, set()).add(session_id)
        return out

    def current(self) -> Item | None:
        """The first photo of this rater's order without a standing answer and never skipped;
        then, once those are done, the photos skipped at an earlier sitting only (None: all done)."""
        with self.db.session() as s:
            answered, skips = self._answered(s), self._skips(s)
            rows = s.execute(
                select(RatingOrder, Image.path).join(Image, Image.id == RatingOrder.image_id)
                .where(RatingOrder.rater_id == self.rater_id, RatingOrder.batch == self.batch)
                .order_by(RatingOrder.position)
            ).all()
            open_ = [(order, path) for order, path in rows if order.image_id not in answered]
            chosen = next(((o, p) for o, p in open_ if o.image_id not in skips), None)
            if chosen is None:
                chosen = next(((o, p) for o, p in open_ if self.session_id not in skips[o.image_id]), None)
            if chosen is not None:
                order, path = chosen
                expected = None
                if order.kind == "training":
                    expected = s.get(PracticeAnswer, order.image_id).expected
                return Item(order.position, order.image_id, path, order.kind, expected, order.image_id in skips)
        return None

    def vote(self, value: int, response_ms: int | None = None) -> Item | None:
        """Answer the current photo; returns the next one."""
        if value not in ACR_LEVELS:
            raise ValueError(f"an ACR vote is 1..5, not {value!r}")
        item = self.current()
        if item is None:
            raise RuntimeError("this rater has answered every photo of the batch")
        with self.db.session() as s:
            s.add(Vote(rater_id=self.rater_id, image_id=item.image_id, session_id=self.session_id,
                       value=value, kind=item.kind, response_ms=response_ms))
        return self.current()

    def skip(self, reason: str) -> Item | None:
        """The current photo could not be shown: record a skip (with why, never a vote); returns
        the next photo. It is not offered again in this sitting."""
        item = self.current()
        if item is None:
            raise RuntimeError("this rater has answered every photo of the batch")
        with self.db.session() as s:
            s.add(Skip(rater_id=self.rater_id, image_id=item.image_id, session_id=self.session_id, reason=reason))
        return self.current()

    def undo(self) -> Item | None:
        """Withdraw this rater's last standing vote or skip in the batch (whichever came last);
        returns the photo to answer again."""
        with self.db.session() as s:
            in_batch = select(RatingOrder.image_id).where(RatingOrder.rater_id == self.rater_id, RatingOrder.batch == self.batch)
            last = [
                s.scalar(select(table).where(table.rater_id == self.rater_id, table.withdrawn_at.is_(None),
                                             table.image_id.in_(in_batch))
                         .order_by(table.created_at.desc(), table.id.desc()).limit(1))
                for table in (Vote, Skip)
            ]
            last = [row for row in last if row is not None]
            if last:
                max(last, key=lambda row: row.created_at).withdrawn_at = utcnow()
        return self.current()

    def progress(self) -> tuple[int, int]:
        with self.db.session() as s:
            order = set(s.scalars(select(RatingOrder.image_id).where(
                RatingOrder.rater_id == self.rater_id, RatingOrder.batch == self.batch)))
            return len(order & self._answered(s)), len(order)

    def skipped(self) -> int:
        """How many photos of the batch this rater skipped and has not answered since."""
        with self.db.session() as s:
            order = set(s.scalars(select(RatingOrder.image_id).where(
                RatingOrder.rater_id == self.rater_id, RatingOrder.batch == self.batch)))
            return len((order & set(self._skips(s))) - self._answered(s))


def batch_name(paths: list[str]) -> str:
    """A stable name for a set of photos (the same set gives the same saved orders)."""
    return "batch-" + hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:12]


def standing_votes(db: Database, kinds=("normal", "gold")) -> list[tuple[str, str, int]]:
    """(rater, image path, value) of every vote not withdrawn, for MOS and screening: one per rater
    and photo, the latest. A rater who meets a photo again (at a second station sharing the
    database, in another session) has changed their mind; counting both would give one person two
    voices in its MOS."""
    with db.session() as s:
        rows = s.execute(
            select(Rater.key, Image.path, Vote.value).join(Rater, Rater.id == Vote.rater_id)
            .join(Image, Image.id == Vote.image_id)
            .where(Vote.withdrawn_at.is_(None), Vote.kind.in_(kinds))
            .order_by(Vote.created_at, Vote.id)
        )
        latest = {(r, p): v for r, p, v in rows}
        return [(r, p, v) for (r, p), v in latest.items()]


def gold_answers(db: Database) -> dict[str, tuple[int, int]]:
    """path -> (expected, tolerance) of the hidden gold photos, the answers screening checks
    raters against. Practice photos are not among them (practice_answers)."""
    with db.session() as s:
        rows = s.execute(select(Image.path, GoldImage.expected, GoldImage.tolerance).join(GoldImage, GoldImage.image_id == Image.id))
        return {p: (e, t) for p, e, t in rows}


def practice_answers(db: Database) -> dict[str, int]:
    """path -> the answer shown with each practice photo."""
    with db.session() as s:
        rows = s.execute(select(Image.path, PracticeAnswer.expected).join(PracticeAnswer, PracticeAnswer.image_id == Image.id))
        return dict(rows.all())


def screened_site_mos(db: Database, min_votes: int = 1) -> tuple[dict, dict]:
    """The site's MOS per photo from standing votes, raters rejected by screening (app.core.ratings.mos:
    BT.500 where it applies, constant answers, weak correlation, subject-model inconsistency, gold
    failures) left out, gold images excluded; only photos with ``min_votes`` or more. Returns
    (path -> ImageMOS, summary: counts, rejected raters, ``screening`` and its ``summary`` text)."""
    votes = standing_votes(db)
    gold = gold_answers(db)
    screening = screen(votes, gold)
    rejected = screening.rejected
    mos = image_mos([v for v in votes if v[1] not in gold], exclude=rejected)
    kept = {path: m for path, m in mos.items() if m.n >= min_votes}
    return kept, {"raters": len(screening.raters), "rejected_raters": sorted(rejected), "gold_photos": len(gold),
                  "screening": screening, "summary": screening.summary()}
