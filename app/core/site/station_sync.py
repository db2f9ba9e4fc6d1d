"""Stations sharing one database follow each other's supervisor: which model version the site
runs, that version's active thresholds, and the inspectors' review decisions. Qt-free: ``poll`` reads both (two indexed queries)
and says what differs from what this station uses; the window's adapter (app.ui.station_sync)
calls it on a timer, off the GUI thread, and applies the change.

Polling rather than PostgreSQL's LISTEN/NOTIFY: the same code serves SQLite and PostgreSQL, a
station that was offline catches up at its next poll (a notification sent while it was away is
lost), and the cost is two small queries every few seconds per open window.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..store.database import Database
from ..store.schema import ModelVersion, Review, ThresholdProfile
from ..verdict import Thresholds


@dataclass(frozen=True)
class SiteModel:
    id: int
    name: str
    version: str
    path: str


@dataclass(frozen=True)
class SiteState:
    model: SiteModel | None  # the version marked active in the database
    thresholds: Thresholds | None  # the active profile of the station's current version
    profile: str | None = None
    latest_review: int | None = None  # the newest review decision (its id), under any version


@dataclass(frozen=True)
class SiteChange:
    """What another station changed: a model version to switch to, thresholds to apply (for the
    version this station runs), or review decisions to show again. All empty: nothing to do."""

    model: SiteModel | None = None
    thresholds: Thresholds | None = None
    profile: str | None = None
    reviews: bool = False  # review decisions were added (here or at another station)

    def __bool__(self) -> bool:
        return self.model is not None or self.thresholds is not None or self.reviews


def site_state(db: Database, model_version_id: int | None) -> SiteState:
    with db.session() as s:
        # These four columns only: every window polls every few seconds, and a version's card
        # and calibration (a kernel ridge keeps its rated photos' features) run to megabytes.
        mv = s.execute(select(ModelVersion.id, ModelVersion.name, ModelVersion.version, ModelVersion.path)
                       .where(ModelVersion.active.is_(True)).order_by(ModelVersion.id.desc()).limit(1)).first()
        model = SiteModel(*mv) if mv is not None else None
        p, review = None, None
        if model_version_id is not None:
            p = s.scalar(select(ThresholdProfile).where(ThresholdProfile.model_version_id == model_version_id,
                                                        ThresholdProfile.active.is_(True))
                         .order_by(ThresholdProfile.id.desc()))
            review = s.scalar(select(func.max(Review.id)))  # decisions hold under every version
        return SiteState(model, Thresholds(p.pass_at, p.fail_below) if p else None, p.name if p else None, review)


class StationSync:
    """Compares the site's state with this station's. A version this station could not switch to
    (its file is not on this PC, say) is reported once, not at every poll, until the site moves
    on to another."""

    def __init__(self, db: Database):
        self.db = db
        self._declined: int | None = None
        self._reviews_seen: tuple[int | None, int | None] | None = None  # (version, newest review id)

    def poll(self, model_version_id: int | None, thresholds: Thresholds | None) -> SiteChange:
        """What to apply, given the version and thresholds this station uses now. Raises
        StoreError when the database cannot be read (the caller says so and polls again later)."""
        state = self.db.run(site_state, self.db, model_version_id)
        if state.model is not None and state.model.id != model_version_id and state.model.id != self._declined:
            return SiteChange(model=state.model)  # its own thresholds come with it
        if state.thresholds is not None and state.thresholds != thresholds:
            return SiteChange(thresholds=state.thresholds, profile=state.profile)
        seen, self._reviews_seen = self._reviews_seen, (model_version_id, state.latest_review)
        if seen is not None and seen[0] == model_version_id and seen[1] != state.latest_review:
            return SiteChange(reviews=True)
        return SiteChange()

    def decline(self, model_version_id: int) -> None:
        """This station could not switch to that version: do not offer it again."""
        self._declined = model_version_id
