"""Which photos make a site, and their MOS (0-100): photos the base model never trained on.

- ``biq-val``: BIQ2021's validation photos as v0.5.0's training carved them (its config
  ``top_student.json``: a tenth of the official TRAINING split, stratified by subset, seed 0), so
  1,000 photos v0.5.0 never trained on; v0.4.0 never saw BIQ2021 at all.
- ``biq-val-ss02``: the capture-error subset (``ss02``) of those, the hardest part.
- ``biq-train``: every photo of the training split (10,000, so ~2,900 test photos and a paired
  interval about a third as wide as biq-val's 289 give): only for a base that never trained on
  BIQ2021 (v0.4.0, the LIVEC-only cross-dataset base); a base whose card names BIQ2021 is refused.
- ``biq-train-ss02``: every ``ss02`` photo of the training split, under the same rule.
- a CSV + folder of your own (``image,mos`` on 0-100, or BIQ2021's layout).

BIQ2021's official test split is never read (``read_rated_set`` refuses its file).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ..data.rated_sets import RatedSet, read_rated_set
from ..stage_joint import load_splits

BIQ_TRAIN_CSV = "Train (Images and MOS).csv"
CARVED_BY = Path(__file__).resolve().parents[1] / "configs" / "top_student.json"  # v0.5.0's split
NAMED = ("biq-val", "biq-val-ss02", "biq-train", "biq-train-ss02")


@dataclass(frozen=True)
class SitePhoto:
    path: str  # absolute, resolved: as the station stores it
    mos: float  # 0-100
    subset: str = ""


def biq_sets(biq_root: Path) -> list[RatedSet]:
    return [RatedSet("biq2021", Path(biq_root) / BIQ_TRAIN_CSV, Path(biq_root))]


def _photos(items) -> list[SitePhoto]:
    return sorted((SitePhoto(str(Path(it.image).resolve()), float(it.mos), it.subset) for it in items),
                  key=lambda p: p.path)


def biq_validation(biq_root: Path) -> list[SitePhoto]:
    _, val = load_splits(biq_sets(biq_root), json.loads(CARVED_BY.read_text()))
    return _photos(val)


def learnt_biq2021(card: dict) -> bool:
    """Whether a base model's card says it learnt BIQ2021's training split. A top trained on named
    datasets (stage ``top``'s ``train_on``, recorded in its recipe) says which: the cross-dataset
    models' LIVEC-only top, over an ImageNet trunk, names BIQ2021 only as a figure it was scored
    on. Any other card that names BIQ2021 in its training record is taken to have learnt it."""
    training = card.get("training") or {}
    recipe = training.get("recipe")
    if isinstance(recipe, str) and "{" in recipe:
        try:
            config = json.loads(recipe[recipe.index("{"):])
        except json.JSONDecodeError:
            config = {}
        if isinstance(config, dict) and isinstance(config.get("train_on"), list):
            return "biq2021" in config["train_on"]
    return "biq2021" in json.dumps(training).lower()


def named_site(name: str, biq_root: Path, base_card: dict | None = None) -> list[SitePhoto]:
    if name == "biq-val":
        return biq_validation(biq_root)
    if name == "biq-val-ss02":
        return [p for p in biq_validation(biq_root) if p.subset == "ss02"]
    if name in ("biq-train", "biq-train-ss02"):
        if base_card is not None and learnt_biq2021(base_card):
            raise ValueError(f"{base_card.get('name')} v{base_card.get('version')} trained on BIQ2021's training split: "
                             f"{name} is not a new site for it (use biq-val or biq-val-ss02)")
        rated = biq_sets(biq_root)[0]
        items = [it for it in read_rated_set(rated) if name == "biq-train" or it.subset == "ss02"]
        return _photos([replace(it, image=str(rated.root / it.image)) for it in items])
    raise ValueError(f"unknown site {name!r}: one of {', '.join(NAMED)}, or --csv with --root")


def csv_site(csv_path: Path, root: Path) -> list[SitePhoto]:
    """A site of your own: its CSV's MOS must be on 0-100 (BIQ2021's layout is put there when read)."""
    items = read_rated_set(RatedSet("site", Path(csv_path), Path(root)))
    return _photos([replace(it, image=str(Path(root) / it.image)) for it in items])
