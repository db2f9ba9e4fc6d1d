"""What the Training panel shows about the station, read in one place (Qt-free): how many rated
photos a fine-tune needs and how many the station has, and every registered model version.
The panel only displays it; the training controller reads it and hands it over."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..ratings.mos import ImageMOS, votes_per_photo_text
from ..ratings.session import screened_site_mos
from ..store.database import Database
from ..store.repository import VersionRow, model_versions
from .finetune_job import Recipe


@dataclass(frozen=True)
class TrainingState:
    photos_needed: int
    votes_needed: int  # per photo, after rater screening
    photos_rated: int  # photos with that many votes or more
    versions: list[VersionRow] = field(default_factory=list)  # newest first
    rated: dict[str, ImageMOS] = field(default_factory=dict)  # every rated photo: MOS ± CI, votes (screened)
    screening: str = ""  # votes per photo and what rater screening judged, with its figures (the Details)
    recipe_epochs: int = 6  # what the fine-tune recipe runs unless the supervisor says otherwise
    raters: int = 0  # who voted
    left_out: tuple[str, ...] = ()  # raters screening left out of the MOS

    @property
    def enough_ratings(self) -> bool:
        return self.photos_rated >= self.photos_needed


def training_state(db: Database, config: Path | None = None) -> TrainingState:
    recipe = Recipe.read(config)
    rated, info = screened_site_mos(db, 1)
    enough = sum(m.n >= recipe.min_votes for m in rated.values())
    votes = votes_per_photo_text(rated, scale100=True)
    return TrainingState(recipe.min_photos, recipe.min_votes, enough, model_versions(db), rated,
                         f"{votes[:1].upper()}{votes[1:]}. {info['summary']}", recipe.epochs,
                         info["raters"], tuple(info["rejected_raters"]))
