"""Synthetic ranking and map terms added to another stage's loss (``aux`` in a stage config).

Training on MOS alone teaches the absolute scale but lets the distortion map drift away from
where damage is; a few synthetic groups per step (``RankingGroups``: one crop at every level of
a distortion, plus a region-damaged copy with its mask) keep the ranking and the localisation
that pre-training taught. The groups come from their own endless loader; on a resumed run they
start afresh (only the main data's order is resumed exactly).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import DataLoader

from .data.ranking import RankingGroups
from .device import reseed_worker, to_device
from .losses import synthetic_group_terms, verdict_loss

# ``map_whole`` (off by default: it costs the detail network scale consistency; see losses.whole_crop_map_loss).
# ``verdict`` (off by default): clean crops above the pass line, heavy damage below the fail line
# (losses.verdict_loss), for a score whose default thresholds mean something.
# ``saved_quality`` [lowest, highest] (off by default): every crop saved as a JPEG first, as users' files are.
DEFAULTS = {"groups": 2, "crop": 224, "rank": 0.5, "map": 0.5, "map_whole": 0.0, "workers": 0,
            "verdict": 0.0, "pass_line": 0.65, "fail_line": 0.35, "heavy_from": {},
            "saved_quality": None}
# The first level of each kind an inspector rejects at a glance (training.data.synthetic's levels),
# matched to the damage the product must fail: Gaussian blur sigma 4 (level 4), noise sigma 25
# (between levels 3 and 4: 4), JPEG quality 8 (between 3 and 4: 4), 2 stops over (x4 in linear
# light, about x1.9 in sRGB: level 3), 2.5 stops under (about x0.46 in sRGB: level 2), 15 px
# motion blur (level 3). 0: no level is damage (a grey photo is still sharp). Others: level 4.
HEAVY_FROM = {"overexposure": 3, "underexposure": 2, "motion_blur": 3, "defocus_blur": 4, "desaturation": 0}


class SyntheticAux:
    def __init__(self, pristine: list[Path], mean, std, options: dict, seed: int = 0):
        self.options = DEFAULTS | options
        groups = RankingGroups(pristine, mean, std, self.options["crop"], length=10**9, seed=seed + 7,
                               saved_quality=self.options["saved_quality"])
        workers = self.options["workers"]
        self.loader = DataLoader(groups, batch_size=self.options["groups"], num_workers=workers,
                                 worker_init_fn=reseed_worker if workers else None,
                                 generator=torch.Generator().manual_seed(seed + 7),
                                 persistent_workers=workers > 0, pin_memory=torch.cuda.is_available())
        self.batches = iter(self.loader)
        heavy = HEAVY_FROM | self.options["heavy_from"]
        self.heavy_from = torch.tensor([int(heavy.get(kind, 4)) for kind in groups.kinds])

    def add_to(self, model, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``terms`` plus ``aux_rank``, ``aux_map`` (and ``aux_verdict`` when asked), their weighted sum
        added to ``total``."""
        batch = to_device(next(self.batches), next(model.parameters()).device)
        group, ladder_scores = synthetic_group_terms(model, batch)
        terms = dict(terms)
        terms["aux_rank"], terms["aux_map"], terms["aux_map_whole"] = group["rank"], group["map"], group["map_whole"]
        terms["total"] = terms["total"] + sum(self.options[k] * group[k] for k in ("rank", "map", "map_whole"))
        if self.options["verdict"]:
            heavy_from = self.heavy_from.to(batch["kind"].device)[batch["kind"]]
            terms["aux_verdict"] = verdict_loss(ladder_scores, heavy_from, self.options["pass_line"],
                                                self.options["fail_line"])
            terms["total"] = terms["total"] + self.options["verdict"] * terms["aux_verdict"]
        return terms
