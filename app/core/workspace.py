"""The app's working state, Qt-free: database, current model, its engine and thresholds.

Windows and the CLI drive this object; it does the I/O. Loading a bad model raises ModelError
and keeps the previous model in use.
"""
from __future__ import annotations

from pathlib import Path

from .engine import Engine, ResolutionPolicy
from .model_loader import LoadedModel, load_model
from .rules import Thresholds
from .store import Database, open_database
from .store.repository import active_thresholds, mark_active, register_model, save_thresholds, score_rows


class Workspace:
    def __init__(self, database: str | Path, policy: ResolutionPolicy = ResolutionPolicy()):
        self.db: Database = open_database(database)
        self.policy = policy
        self.model: LoadedModel | None = None
        self.engine: Engine | None = None
        self.model_version_id: int | None = None
        self.thresholds = Thresholds()

    def load_model(self, path: str | Path) -> LoadedModel:
        """Verify and switch to the model at ``path``; on ModelError nothing changes."""
        model = load_model(path)
        self.model_version_id = register_model(self.db, model.card, str(model.onnx_path))
        mark_active(self.db, self.model_version_id)
        self.model, self.engine = model, Engine(model, self.policy)
        self.thresholds = active_thresholds(self.db, self.model_version_id)
        return model

    def set_thresholds(self, thresholds: Thresholds, profile: str = "default") -> None:
        """Save a profile for the current model and recompute its stored verdicts."""
        if self.model_version_id is None:
            raise RuntimeError("no model loaded")
        save_thresholds(self.db, self.model_version_id, profile, thresholds)
        self.thresholds = thresholds

    def rows(self) -> list[dict]:
        return score_rows(self.db, self.model_version_id) if self.model_version_id else []

    def close(self) -> None:
        self.db.close()
