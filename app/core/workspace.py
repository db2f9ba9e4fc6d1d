"""The app's working state, Qt-free: database, current model, its engine and thresholds.

Windows and the CLI drive this object; it does the I/O. Loading a bad model raises ModelError
and keeps the previous model in use.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .calibration import Calibration, fit_calibration
from .model.loader import LoadedModel, load_model
from .model.trust import admit_model
from .ratings.session import screened_site_mos
from .scoring.engine import Engine
from .site.finetune_job import requirement
from .store import Database, open_database
from .store.upgrade import after_upgrade
from .verdict import Thresholds
from .store.repository import (
    active_profile,
    active_thresholds,
    active_version,
    calibration_rows,
    mark_active,
    model_calibration,
    rescore_stored,
    save_thresholds,
    score_rows,
)


@dataclass(frozen=True)
class PreparedModel:
    """A verified model with everything the workspace needs to run it, not yet in use."""

    model: LoadedModel
    version_id: int
    engine: Engine
    thresholds: Thresholds
    profile: str | None = None  # the name of the threshold profile in force (None: the defaults)
    notice: str | None = None  # what loading it changed for the site, or found changed on disk (a sentence)


class Workspace:
    def __init__(self, database: str | Path):
        self.db: Database = open_database(database)
        self.model: LoadedModel | None = None
        self.engine: Engine | None = None
        self.model_version_id: int | None = None
        self.thresholds = Thresholds()
        self.profile: str | None = None  # the threshold profile in force, by name
        self.notice: str | None = None  # what loading the model in use changed, or found (a sentence)

    def load_model(self, path: str | Path, approved_by: str | None = None, site_choice: bool = False,
                   chosen_by: str | None = None) -> LoadedModel:
        """Verify and switch to the model at ``path``; on ModelError nothing changes.

        A model this station does not trust raises UntrustedModel unless ``approved_by`` names
        the person approving it (recorded with the version; see app.core.model.trust).

        ``site_choice``: a supervisor's explicit switch, which makes this version the one every
        station sharing the database runs, from this path. Any other load (a station opening, or
        following the site) changes nothing for the others; only a site with no version chosen
        yet takes the first one loaded. ``chosen_by``: the supervisor making a site's choice."""
        prepared = self.prepare_model(path, approved_by, site_choice, chosen_by)
        self.adopt(prepared)
        return prepared.model

    def prepare_model(self, path: str | Path, approved_by: str | None = None, site_choice: bool = False,
                      chosen_by: str | None = None) -> PreparedModel:
        """All of ``load_model``'s I/O (hashing, the ONNX session, trust, the site's choice, the
        version's calibration and thresholds) without changing this workspace: a window runs it
        off the GUI thread and ``adopt``s the result on it, all at once."""
        model = load_model(path)
        version_id = admit_model(self.db, model.card, str(model.onnx_path), approved_by)
        # Before the site's choice is read: an upgrade may have put this version where the chosen one was.
        notice = after_upgrade(self.db, version_id, model.card, str(model.onnx_path))
        if site_choice or active_version(self.db) is None:
            mark_active(self.db, version_id, str(model.onnx_path), chosen_by if site_choice else None)
        calibration = model_calibration(self.db, version_id)
        return PreparedModel(model, version_id, Engine(model, calibration), active_thresholds(self.db, version_id),
                             active_profile(self.db, version_id), notice)

    def adopt(self, prepared: PreparedModel) -> None:
        self.model, self.engine = prepared.model, prepared.engine
        self.model_version_id, self.thresholds = prepared.version_id, prepared.thresholds
        self.profile, self.notice = prepared.profile, prepared.notice

    def set_thresholds(self, thresholds: Thresholds, profile: str = "default", changed_by: str | None = None) -> None:
        """Save a profile for the current model (``changed_by``: who) and recompute its stored verdicts."""
        self.store_thresholds(thresholds, profile, changed_by)
        self.thresholds, self.profile = thresholds, profile

    def store_thresholds(self, thresholds: Thresholds, profile: str = "default", changed_by: str | None = None) -> None:
        """``set_thresholds``'s I/O alone (every stored verdict of the version is recomputed)."""
        if self.model_version_id is None:
            raise RuntimeError("no model loaded")
        save_thresholds(self.db, self.model_version_id, profile, thresholds, changed_by)

    # --- site calibration (torch-free; seconds) -----------------------------------------------
    def fit_calibration(self, min_votes: int | None = None) -> Calibration:
        """Fit (not apply) a calibration of the current model to the site's screened MOS, from
        the embeddings (and pooled stages, where the model gives them) stored with its scores;
        its nested cross-validation says whether it helps.

        ``min_votes``: standing votes a photo needs to count, by default the fine-tune's (one
        rule for both: a 1-vote MOS is one person's opinion)."""
        votes = requirement()[1] if min_votes is None else min_votes
        mos, _ = screened_site_mos(self.db, votes)
        rows = calibration_rows(self.db, self.model_version_id, list(mos))
        if not rows:
            raise ValueError(f"no photo with {votes} or more votes has been scored by this model yet "
                             "(rate photos, and score the rated folder with this model)")
        paths, embeddings, raw, stages = zip(*rows)
        return fit_calibration(embeddings, raw, [mos[p].mos100 for p in paths], min_votes=votes, stages=stages)

    def apply_calibration(self, calibration: Calibration | None, calibrated_by: str | None = None) -> int:
        """Store ``calibration`` with the model version (None removes it), recompute every stored
        score and verdict of that version from its raw score and embedding, and use it for new
        photos. Returns how many stored scores were recomputed."""
        changed = self.store_calibration(calibration, calibrated_by)
        self.use_calibration(calibration)
        return changed

    def store_calibration(self, calibration: Calibration | None, calibrated_by: str | None = None) -> int:
        """``apply_calibration``'s I/O alone (``calibrated_by``: who, recorded with the version);
        ``use_calibration`` then scores new photos with it."""
        return rescore_stored(self.db, self.model_version_id, calibration, self.thresholds, calibrated_by)

    def use_calibration(self, calibration: Calibration | None) -> None:
        self.engine = Engine(self.model, calibration)

    @property
    def calibration(self) -> Calibration | None:
        return self.engine.calibration if self.engine else None

    def rows(self) -> list[dict]:
        return score_rows(self.db, self.model_version_id) if self.model_version_id else []

    def close(self) -> None:
        self.db.close()
