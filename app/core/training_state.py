"""What the Training panel shows about the station, read in one place (Qt-free): how many rated
photos a fine-tune needs and how many the station has, and every registered model version.
The panel only displays it; the training controller reads it and hands it over."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .finetune_job import requirement
from .labeling import screened_site_mos
from .store.database import Database
from .store.repository import VersionRow, model_versions


@dataclass(frozen=True)
class TrainingState:
    photos_needed: int
    votes_needed: int  # per photo, after rater screening
    photos_rated: int  # photos with that many votes or more
    versions: list[VersionRow] = field(default_factory=list)  # newest first

    @property
    def enough_ratings(self) -> bool:
        return self.photos_rated >= self.photos_needed


def training_state(db: Database, config: Path | None = None) -> TrainingState:
    photos, votes = requirement(config)
    mos, _ = screened_site_mos(db, votes)
    return TrainingState(photos, votes, len(mos), model_versions(db))
