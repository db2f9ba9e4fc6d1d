"""The fine-tune's recipe for a site, chosen by how many photos it trains on (issue 24 item 2).

On real ratings the whole-network recipe over-fits a few hundred photos: from v0.5.0 the site's
validation SRCC peaked at epoch 1-2 and then fell every epoch while the loss fell (training
README, "Site benchmark on real ratings"). ~3 M weights cannot be moved by 110-220 noisy MOS
without learning their noise. So below ``heads_below`` training photos the recipe (the config's
``small_site``) trains only the top, and keeps the model near what it was:

- ``trainable: "heads"``: the backbone is frozen (weights and norm statistics); only the LDA,
  the MAL views and the fusion learn (a damage head, which never moves the score, stays too);
- ``rehearsal``: every step also pulls the score toward the base model's own score on the same
  crop (L1 on 0-1, weighted by ``rehearsal``), so what the base knew and the site's few photos do
  not show is not forgotten. The frozen backbone is run once per batch for both;
- ``site_scale: false``: the site's MOS teach the ranking only (batch PLCC and pairwise ranking,
  as BIQ2021 taught v0.5.0), no L1 to the site's MOS, so the score keeps the base's scale and the
  verdict thresholds keep their meaning (the rehearsal holds the scale);
- ``overview_side``: the photos are trained on as the overview reads them (long side 512, as the
  app scores them), not as native-resolution crops of a 12-megapixel photo;
- early stopping on validation (``patience``).

``choose_recipe`` returns the config to run and, in words, which recipe and why: the fine-tune
report carries it and the Training panel shows it.
"""
from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from app.core.scoring.reading import overview

from .data.mos import MOSDataset, read_mos_csv, split_items
from .loop import fit
from .losses import mos_losses, rated_batch_losses
from .stage_mos import build_model, store_best_metrics

log = logging.getLogger(__name__)

HEADS = ("lda", "mal", "fusion")  # what "heads" trains: everything after the backbone that moves the score


def choose_recipe(cfg: dict, n_train: int) -> tuple[dict, dict]:
    """(the config to run, {"name", "why"}) for a site with ``n_train`` training photos: the
    config's ``small_site`` overrides below its ``heads_below``, the config as it is otherwise."""
    small = cfg.get("small_site")
    base = {k: v for k, v in cfg.items() if k != "small_site"}
    if not small or n_train >= int(small.get("heads_below", 0)):
        said = "the whole network" if base.get("trainable", "all") == "all" else f"{base['trainable']} only"
        why = (f"{n_train} training photos (at least {small['heads_below']}): enough to train the whole network"
               if small else "the recipe's one setting")
        return base, {"name": said, "trainable": base.get("trainable", "all"), "why": why}
    run = base | {k: v for k, v in small.items() if k not in ("heads_below", "name")}
    learns = ("learns the order of the site's photos (the score keeps its scale, so the thresholds keep their meaning)"
              if run.get("site_scale", True) is False else "learns")
    why = (f"only {n_train} training photos (fewer than {small['heads_below']}): the whole network over-fits so few "
           f"(on real ratings its validation fell from the second epoch), so only the top {learns}, pulled toward "
           "the current model's own scores so that it forgets nothing the site's photos do not show")
    return run, {"name": small.get("name", "heads only, with rehearsal"), "trainable": run.get("trainable", "heads"),
                 "why": why}


def read_as_overview(photos: MOSDataset, side: int) -> MOSDataset:
    """The dataset's photos reduced as the app's overview reads them (long side ``side``)."""
    photos.images = [overview(img, side) for img in photos.images]
    return photos


def set_trainable(model: nn.Module, trainable: str) -> int:
    """Freeze all but what ``trainable`` names ("all": leave the model as built; "heads": the
    LDA, views and fusion); returns how many weights will learn."""
    if trainable not in ("all", "heads"):
        raise ValueError(f"trainable must be 'all' or 'heads', not {trainable!r}")
    if trainable == "heads":
        for name, p in model.named_parameters():
            p.requires_grad_(name.split(".")[0] in HEADS)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def backbone_frozen(model: nn.Module) -> bool:
    return not any(p.requires_grad for p in model.backbone.parameters())


def site_loss(base: nn.Module | None, weights: dict, rehearsal: float, site_scale: bool = True):
    """The loss of one batch: the site's MOS terms (with ``site_scale`` L1 to the MOS, always the
    ranking terms), plus (``rehearsal`` > 0) L1 between the score and the frozen ``base``'s score
    on the same crop."""

    def loss_fn(model, batch):
        x = batch["image"]
        h, w = x.shape[-2:]
        if backbone_frozen(model):  # the frozen backbone runs once, for the model and the base alike
            with torch.no_grad():
                stages = model.stages(x)
            run = lambda net: net.forward_from_stages(stages, h, w)  # noqa: E731
        else:
            run = lambda net: net(x)  # noqa: E731
        out = run(model)
        before = None
        if base is not None and rehearsal > 0:
            with torch.no_grad():
                before = run(base)["score"]
        mos = batch["mos"].float()
        terms = mos_losses(out, mos, weights) if site_scale else rated_batch_losses(out, mos, False, weights)
        if before is not None:
            terms["rehearsal"] = F.l1_loss(out["score"] / 100.0, before / 100.0)
            terms["total"] = terms["total"] + rehearsal * terms["rehearsal"]
        return terms

    return loss_fn


def run_site_stage(cfg: dict, csv_path: Path, out_dir: Path) -> list[dict]:
    """Train ``cfg['init']``'s network on the site's MOS file (train + validation photos, their
    split in the file) by the recipe's ``trainable`` and ``rehearsal``."""
    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    torch.manual_seed(cfg.get("seed", 0))
    model = build_model(cfg)
    learning = set_trainable(model, cfg.get("trainable", "all"))
    rehearsal = float(cfg.get("rehearsal", 0.0))
    base = copy.deepcopy(model).eval().requires_grad_(False) if rehearsal > 0 else None
    train_items, val_items = split_items(read_mos_csv(csv_path), cfg.get("val_fraction", 0.15), cfg.get("split_seed", 0))
    mean, std = model.config.mean, model.config.std
    log.info("site stage: %d train / %d val photos; %s weights learn (%s), rehearsal %.2f", len(train_items),
             len(val_items), f"{learning:,}", cfg.get("trainable", "all"), rehearsal)
    train_set = MOSDataset(train_items, Path("/"), mean, std, crop=cfg["crop"], seed=cfg.get("seed", 0))
    val_set = MOSDataset(val_items, Path("/"), mean, std) if val_items else None
    if cfg.get("overview_side"):  # as the app reads them; validation too, so it chooses what the app will see
        for part in (train_set, val_set) if val_set else (train_set,):
            read_as_overview(part, int(cfg["overview_side"]))
    weights = cfg.get("loss", {"l1": 1.0, "plcc": 1.0, "diversity": 0.01})
    card_info = {"training": {
        "data": f"{csv_path} ({len(train_items)} train / {len(val_items)} val)",
        "recipe": f"site stage ({cfg.get('trainable', 'all')}, rehearsal {rehearsal}): {json.dumps(cfg, sort_keys=True)}",
    }}
    loss_fn = site_loss(base, weights, rehearsal, bool(cfg.get("site_scale", True)))
    history = fit(model, cfg, train_set, val_set, out_dir, loss_fn, card_info)
    store_best_metrics(out_dir, cfg, csv_path)
    return history
