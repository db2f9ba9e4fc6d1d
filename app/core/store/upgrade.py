"""What a program upgrade that replaced the site's model on disk leaves a station to do.

A new model version whose card says it gives an earlier version's scores, bit for bit, takes
over what a site set up for that version: its threshold profiles, its calibration and, when a
program upgrade put it at the very path the site's chosen version was loaded from, the site's
choice.

Thresholds and calibrations hang off one model version, because a new model's scores mean
something else (app.core.store.repository). Without this, upgrading the program to a shipped
version that only adds an output (v0.7.3: v0.7.2's scores with its pooled stages) dropped a
site's thresholds back to the defaults and left its stations declining the site's choice that
the upgrade had replaced on disk, although no score had moved.

The claim is the card's ``same_scores_as`` block (``contract.same_scores_as``), written by the
command that made the version after checking every output of the earlier graph unchanged
(``python -m training graft-stages``). A station trusts a card only after its model is trusted
(shipped, or approved by a person), and carries only into a version a supervisor has not set up
yet.

A version with other scores found where the site's chosen one was carries nothing, and the
station says what happened (``replaced_site_model``) rather than offering a switch to a file it
can no longer load.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from ..calibration import Calibration
from ..model.contract import same_scores_as
from .database import Database
from .repository import insert_if_absent, judge_stored, rescore_stored, thresholds_in_force
from .schema import ModelVersion, ThresholdProfile


@dataclass(frozen=True)
class CarriedOver:
    """What a version took over from the one whose scores it gives."""

    name: str
    version: str  # the earlier version's
    profiles: tuple[str, ...] = ()
    active_profile: tuple[str, float, float] | None = None  # (name, pass at, fail below)
    calibration: bool = False
    site_choice: bool = False

    def sentence(self, new_name: str, new_version: str) -> str:
        kept = []
        if self.active_profile:
            name, pass_at, fail_below = self.active_profile
            kept.append(f"its thresholds {name!r} (pass ≥ {pass_at:g}, fail < {fail_below:g})")
        extra = [p for p in self.profiles if not self.active_profile or p != self.active_profile[0]]
        if extra:
            kept.append(f"profile{'s' if len(extra) > 1 else ''} {', '.join(repr(p) for p in extra)}")
        if self.calibration:
            kept.append("its calibration")
        if self.site_choice:
            kept.append("the site's choice of model")
        listed = ", ".join(kept[:-1]) + (" and " if len(kept) > 1 else "") + kept[-1]
        return f"{new_name} v{new_version} gives v{self.version}'s scores: {listed} carried over from v{self.version}"


def carry_to_same_scores(db: Database, version_id: int, card: dict, path: str) -> CarriedOver | None:
    """Give the version ``version_id`` (its ``card``, loaded from ``path``) what the site set up for
    the version its card says it scores as, where it has none of its own: the threshold profiles
    when it has none, the calibration when it was never calibrated (a supervisor's removal is
    kept), and the site's choice when the site runs the earlier version from ``path`` itself.
    None when the card claims nothing, the earlier version was never registered here, or nothing
    was left to carry (a second launch carries nothing)."""
    claim = same_scores_as(card)
    if claim is None:
        return None
    with db.session() as s:
        earlier = s.scalar(select(ModelVersion).where(ModelVersion.sha256 == claim["identity"]))
        if earlier is None or earlier.id == version_id:
            return None
        # Two stations upgrading at once carry one after the other (PostgreSQL; SQLite has one writer).
        new = s.scalar(select(ModelVersion).where(ModelVersion.id == version_id).with_for_update())
        profiles = _carry_profiles(s, earlier.id, version_id)
        thresholds = thresholds_in_force(s, version_id)
        if profiles:  # scores this version stored before (on the defaults) are judged by them now
            judge_stored(s, version_id, thresholds)
        site_choice = bool(earlier.active and earlier.path == path)
        if site_choice:  # the upgrade replaced the file the site's choice loads: the choice is this version now
            s.execute(update(ModelVersion).values(active=False))
            new.active, new.path, new.chosen_by, new.chosen_at = True, path, earlier.chosen_by, earlier.chosen_at
        calibration = (Calibration.from_json(earlier.calibration)
                       if new.calibration is None and new.calibrated_at is None and earlier.calibration else None)
        found = CarriedOver(earlier.name, earlier.version, tuple(p.name for p in profiles),
                            next(((p.name, p.pass_at, p.fail_below) for p in profiles if p.active), None),
                            calibration is not None, site_choice)
        calibrated_by = earlier.calibrated_by
    if calibration is not None:  # saved with the version and its stored scores recomputed, in one transaction
        rescore_stored(db, version_id, calibration, thresholds, calibrated_by)
    return found if (found.profiles or found.calibration or found.site_choice) else None


def _carry_profiles(s, earlier_id: int, version_id: int) -> list[ThresholdProfile]:
    """The earlier version's profiles, copied as they were saved (who and when included), when the
    new version has none; [] otherwise."""
    if s.scalar(select(ThresholdProfile.id).where(ThresholdProfile.model_version_id == version_id).limit(1)):
        return []
    profiles = s.scalars(select(ThresholdProfile).where(ThresholdProfile.model_version_id == earlier_id)
                         .order_by(ThresholdProfile.id)).all()
    for p in profiles:
        insert_if_absent(s, ThresholdProfile.__table__, ["model_version_id", "name"],
                         dict(model_version_id=version_id, name=p.name, pass_at=p.pass_at, fail_below=p.fail_below,
                              active=p.active, created_at=p.created_at, changed_by=p.changed_by,
                              changed_at=p.changed_at))
    return list(profiles)


def replaced_site_model(db: Database, version_id: int, path: str) -> str | None:
    """A sentence when the site runs another version from ``path``, the file this version was just
    loaded from: an upgrade replaced the site's model with one of other scores (no claim carried
    the choice over). None otherwise."""
    with db.session() as s:
        site = s.execute(select(ModelVersion.id, ModelVersion.name, ModelVersion.version)
                         .where(ModelVersion.active.is_(True), ModelVersion.path == path)).first()
        if site is None or site.id == version_id:
            return None
        new = s.execute(select(ModelVersion.name, ModelVersion.version).where(ModelVersion.id == version_id)).one()
        in_force = thresholds_in_force(s, version_id)
    return (f"The site runs {site.name} v{site.version} from {path}, where this program now has {new.name} "
            f"v{new.version} (an upgrade replaced it; its scores differ): scoring with v{new.version} on its own "
            f"thresholds (pass ≥ {in_force.pass_at:g}, fail < {in_force.fail_below:g}) until a supervisor chooses the "
            "site's model (Training panel) and saves thresholds for it")


def after_upgrade(db: Database, version_id: int, card: dict, path: str) -> str | None:
    """What loading this version from ``path`` carried over, or found replaced on disk: the sentence
    a station says (the window, ``score`` and ``archive`` alike), None when nothing changed."""
    carried = carry_to_same_scores(db, version_id, card, path)
    if carried is not None:
        return carried.sentence(str(card["name"]), str(card["version"]))
    return replaced_site_model(db, version_id, path)
