"""``finetune``: adapt the current model to a site's own ratings, collected in the app's database.

1. Votes -> BT.500 screening -> MOS per photo (screened raters left out), photos with at least
   ``min_votes`` standing votes, split three ways by a seeded rule (``site_split``): train,
   validation (chooses the epoch) and test (measures before/after, nothing else). The training
   process is handed the train and validation photos only: no test photo is in its MOS file or
   among the teacher's unlabeled photos, so the test split cannot influence model selection.
2. The student starts from the base model's weights (``NAME.pt`` beside ``NAME.onnx``). With the
   teacher's weights (``teacher.pt`` in the same folder) it is distillation: the teacher keeps the
   student from forgetting, and labels the site's unrated photos; without them (or with the
   recipe's ``"distill": false``), plain MOS training.
3. The result is exported as a new version (``NAME-site-<time>``) that carries what the next
   fine-tune needs (its own ``NAME.pt``, the teacher, the split rule, its parent), evaluated
   before and after on the test photos as the app runs it (ONNX), with a paired bootstrap 95 %
   interval of the SRCC gain. It is registered only when it is not worse beyond noise (the
   interval does not lie entirely below 0), and advised for use only when it is better beyond
   noise (the interval lies above 0); in between it is a candidate. Otherwise the report says why
   and the current version stays (the supervisor may still register it from the Training panel).
   The recipe depends on how many photos it trains on (``site_recipe``).
"""
from __future__ import annotations

import csv
import json
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from sqlalchemy import select

from app.core.stats import PairedComparison, compare_srcc
from app.core.scoring.engine import Engine
from app.core.scoring.exposure import ExposureReader
from app.core.imageio.decode import load_rgb
from app.core.ratings.session import gold_answers, practice_answers, screened_site_mos
from app.core.model.contract import model_identity, sha256_file
from app.core.model.loader import load_model, resolve_model_files
from app.core.model.trust import is_shipped
from app.core.store import open_database
from app.core.store.repository import model_approval, register_model
from app.core.store.schema import Image, Score
from app.core.store.urls import hide_password
from models import load_checkpoint

from .atomic import atomic_path
from .data.mos import MOSItem, write_mos_csv
from .export import annotate_card, attach_detail_graph, export_model, save_slim_weights
from .exposure_reader import refit_reader
from .metrics import iqa_metrics
from .site_recipe import choose_recipe, read_as_overview
from .site_split import SplitRule, assign, counts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SitePhoto:
    item: MOSItem  # image = absolute path, mos 0-100
    key: str  # content hash when the station recorded one, else the path: what the split follows
    votes: int


@dataclass(frozen=True)
class SiteData:
    """The site's photos for one fine-tune, already split."""

    photos: dict[str, list[SitePhoto]]  # "train" / "val" / "test"
    unlabeled: list[str]  # scored, not rated: the teacher labels them (never a test photo)
    info: dict  # raters, rejected raters, counts

    def stage_items(self) -> list[MOSItem]:
        """What the training process sees: train and validation photos, nothing else."""
        return [MOSItem(p.item.image, p.item.mos, p.item.std, name) for name in ("train", "val") for p in self.photos[name]]


def site_photos(db_url: str, min_votes: int) -> tuple[list[SitePhoto], list[tuple[str, str]], dict]:
    """(rated photos with ``min_votes``+ standing votes, (path, key) of photos scored but not
    rated, screening summary)."""
    db = open_database(db_url)
    try:
        mos, info = screened_site_mos(db, min_votes)
        with db.session() as s:
            hashes = dict(s.execute(select(Image.path, Image.content_hash)).all())
            scored = [p for (p,) in s.execute(select(Image.path).join(Score).where(Score.status == "ok").distinct())]
        # A photo with a person's answer (gold or practice) is not unlabeled material for the teacher.
        rated = set(mos) | set(gold_answers(db)) | set(practice_answers(db))
    finally:
        db.close()
    photos = [SitePhoto(MOSItem(m.image, m.mos100, m.std * 25), hashes.get(m.image) or m.image, m.n) for m in mos.values()]
    unrated = [(p, hashes.get(p) or p) for p in scored if p not in rated]
    info = {"raters": info["raters"], "rejected_raters": info["rejected_raters"], "rated_photos": len(photos),
            "unrated_photos": len(unrated)}
    return sorted(photos, key=lambda p: p.item.image), sorted(unrated), info


def split_site(photos: list[SitePhoto], unrated: list[tuple[str, str]], rule: SplitRule) -> SiteData:
    split = assign([p.key for p in photos], rule)
    grouped = {name: [p for p in photos if split[p.key] == name] for name in ("train", "val", "test")}
    test_keys = {p.key for p in grouped["test"]}
    test_paths = {p.item.image for p in grouped["test"]}
    # An unrated copy of a test photo (same content elsewhere) is not shown to the teacher either.
    unlabeled = [path for path, key in unrated if key not in test_keys and path not in test_paths]
    # Photos per split (two photos with the same content share one key, and one split).
    return SiteData(grouped, unlabeled, {"split": {name: len(grouped[name]) for name in grouped},
                                         "split_keys": counts(split)})


def check_no_test_photo(data: SiteData, stage_items: list[MOSItem], unlabeled: list[str]) -> None:
    """The construction's guarantee, checked: nothing the training process receives is a test
    photo (by path or by content)."""
    test_paths = {p.item.image for p in data.photos["test"]}
    test_keys = {p.key for p in data.photos["test"]}
    keys = {p.item.image: p.key for name in ("train", "val") for p in data.photos[name]}
    leaked = [it.image for it in stage_items if it.image in test_paths or keys.get(it.image) in test_keys]
    leaked += [p for p in unlabeled if p in test_paths]
    if leaked:
        raise AssertionError(f"test photos would reach training: {leaked[:3]}")


def find_teacher(base_onnx: Path) -> Path | None:
    """``teacher.pt`` beside the base model (every version made here carries a copy)."""
    beside = base_onnx.parent / "teacher.pt"
    return beside if beside.exists() else None


def _train(stage_cfg: dict, meta: Path, teacher: Path | None, run: Path, unlabeled: list[Path]) -> None:
    """The training process proper: it gets the MOS file of train + validation photos, the
    unlabeled photos and nothing else (tests replace it to see exactly what it is given)."""
    from .site_recipe import run_site_stage
    from .stage_distill import run_distill
    from .stage_mos import run_mos_stage

    if stage_cfg.get("trainable", "all") != "all" or stage_cfg.get("rehearsal"):
        run_site_stage(stage_cfg, meta, run)  # the small-site recipe: no teacher, the base's own scores
    elif teacher is not None:
        run_distill(stage_cfg, meta, Path("/"), teacher, run, unlabeled=unlabeled)
    else:
        log.warning("no teacher (none beside the base model, or the recipe's distill is false): "
                    "fine-tuning on the site's MOS alone")
        run_mos_stage(stage_cfg, meta, Path("/"), run)


def start_validation(student_ckpt: Path, items: list[MOSItem], cfg: dict) -> dict:
    """The starting weights on the validation photos, measured as the training loop measures
    every epoch: "epoch 0", the choice to beat (a fine-tune that never beats it changed nothing
    worth keeping)."""
    from .data.mos import MOSDataset
    from .device import pick_device
    from .loop import validate

    torch.set_num_threads(cfg.get("threads") or torch.get_num_threads())
    model, _ = load_checkpoint(student_ckpt)
    model.to(pick_device(cfg.get("device")))
    photos = MOSDataset(items, Path("/"), model.config.mean, model.config.std)
    if cfg.get("overview_side"):  # the recipe validates on photos as the overview reads them: so does epoch 0
        read_as_overview(photos, int(cfg["overview_side"]))
    return validate(model, photos)


def predict_onnx(onnx_path: Path, items: list[MOSItem], threads: int | None = None) -> np.ndarray:
    """Scores as the app computes them (ONNX Runtime, the card's reading); ``threads``: the
    recipe's thread budget (default: ONNX Runtime's, every core)."""
    engine = Engine(load_model(onnx_path, threads=threads or None))
    return np.array([engine.score(load_rgb(it.image)).score for it in items])


def decide(comparison: PairedComparison, validation: dict | None = None) -> tuple[bool, str]:
    """Register the new version unless no epoch beat the starting weights on the validation
    photos (then there is nothing new worth keeping) or it is worse than its parent beyond noise
    on the test photos."""
    said = comparison.describe()
    start, best = (validation or {}).get("start_srcc"), (validation or {}).get("srcc")
    if start is not None and np.isfinite(start) and not (best is not None and np.isfinite(best) and best > start):
        return False, (f"not registered: no epoch did better than the starting weights on the {validation.get('n')} "
                       f"validation photos (SRCC {start:.3f} at the start, {_num(best)} at the chosen epoch "
                       f"{validation.get('epoch')}); test photos, for information: {said}")
    if not np.isfinite(comparison.after):
        return False, f"not registered: the new version does not rank the test photos at all ({said})"
    if comparison.worse:
        return False, (f"not registered: worse than the current version beyond noise on the test photos ({said}; "
                       "the interval lies below 0); the current version stays in use")
    # Registered either way (the station trusts its own fine-tunes), but only a gain beyond noise
    # is advised for use; anything else is a candidate the current version stays ahead of.
    if comparison.gain_ci is None:
        return True, (f"registered as a candidate: {said}; too few test photos for an interval, so neither "
                      "shown worse nor shown better")
    if comparison.better:
        return True, f"registered: better than the current version beyond noise on the test photos ({said})"
    return True, (f"registered as a candidate: not better than the current version beyond noise on the test photos "
                  f"({said}); the current version stays in use unless the supervisor chooses this one")


def _num(value) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _copy(source: Path, target: Path) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _write_predictions(path: Path, items: list[MOSItem], before: np.ndarray, after: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["image", "mos", "before", "after"])
        writer.writerows((it.image, f"{it.mos:.3f}", f"{b:.3f}", f"{a:.3f}") for it, b, a in zip(items, before, after))


def _metrics(pred: np.ndarray, mos: np.ndarray) -> dict:
    return iqa_metrics(pred, mos) | {"n": len(mos)}


def refuse_untrusted_base(db_url: str, base_card: dict) -> None:
    """A fine-tune's output is registered as this station's own version, trusted without asking:
    that is only sound when the base itself is trusted here (shipped, fine-tuned or approved),
    or a fine-tune would launder any model, and its detail graph, into a trusted one."""
    db = open_database(db_url)
    try:
        if is_shipped(base_card) or model_approval(db, base_card) is not None:
            return
    finally:
        db.close()
    raise ValueError(f"{base_card['name']} v{base_card['version']} is not a model this station trusts "
                     "(shipped, fine-tuned here or approved): approve it first (in the window, or score with "
                     "--trust-model), then fine-tune it")


def run_finetune(cfg: dict, db_url: str, base: Path, out: Path) -> dict:
    base_onnx, _ = resolve_model_files(base)
    base_card = load_model(base_onnx).card
    refuse_untrusted_base(db_url, base_card)
    student_ckpt = base_onnx.with_suffix(".pt")
    if not student_ckpt.exists():
        raise FileNotFoundError(f"{student_ckpt.name}: the base model's torch weights are needed to fine-tune it")
    carried = find_teacher(base_onnx)  # copied to the new version whether or not this recipe uses it
    min_votes, min_photos = int(cfg.get("min_votes", 3)), int(cfg.get("min_photos", 20))
    photos, unrated, info = site_photos(db_url, min_votes)
    if len(photos) < min_photos:
        raise ValueError(f"only {len(photos)} photos have {min_votes}+ standing votes; "
                         f"rate at least {min_photos} before fine-tuning")
    # A fine-tune of a fine-tuned version keeps its lineage's rule: its parent's test photos stay test.
    inherited = (base_card.get("site_split") or {}).get("rule")
    rule = SplitRule.from_json(inherited) if inherited else SplitRule.from_config(cfg)
    data = split_site(photos, unrated, rule)
    n = data.info["split"]
    if n["train"] < 2:
        raise ValueError(f"only {n['train']} photos are left to train on after the validation and test splits; rate more")
    cfg, recipe = choose_recipe(cfg, n["train"])  # the recipe depends on how many photos it trains on
    log.info("recipe: %s (%s)", recipe["name"], recipe["why"])
    teacher = carried if cfg.get("distill", True) else None

    out.mkdir(parents=True, exist_ok=True)
    stage_items = data.stage_items()
    unlabeled = data.unlabeled if teacher is not None else []
    check_no_test_photo(data, stage_items, unlabeled)
    meta = out / "site_mos.csv"  # train + validation: the only ratings the training process reads
    write_mos_csv(stage_items, meta, with_split=True)
    test_items = [p.item for p in data.photos["test"]]
    write_mos_csv(test_items, out / "site_test.csv")  # read after training, by the evaluation only

    if cfg.get("overview_side") is True:  # "as the overview reads them": the base card's reading says at what size
        cfg = cfg | {"overview_side": int((base_card.get("reading") or {}).get("overview_side", 512))}
    start = start_validation(student_ckpt, [p.item for p in data.photos["val"]], cfg)
    n_train = n["train"] + len(unlabeled)
    stage_cfg = cfg | {"init": str(student_ckpt), "batch_size": max(1, min(int(cfg.get("batch_size", 16)), n_train))}
    run = out / "run"
    _train(stage_cfg, meta, teacher, run, [Path(p) for p in unlabeled])

    model, ckpt = load_checkpoint(run / "best.pt")
    chosen = (ckpt.get("history") or [{}])[-1]  # best.pt's history ends at the epoch it was chosen
    last = run / "last.pt"
    history = torch.load(last, map_location="cpu", weights_only=True)["history"] if last.exists() else ckpt.get("history") or []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{base_onnx.stem.split('-site-')[0]}-site-{stamp}"
    validation = {"n": n["val"], "epoch": chosen.get("epoch"), "srcc": chosen.get("val_srcc"),
                  "plcc": chosen.get("val_plcc"), "epochs_run": len(history), "start_srcc": start["srcc"],
                  "start_plcc": start["plcc"]}
    info_card = {
        "version": f"{base_card['version'].split('+site.')[0]}+site.{stamp}",
        "training": {"data": f"site ratings from {hide_password(db_url)}: {n['train']} train / {n['val']} validation "
                             f"(chooses the epoch) / {n['test']} test (never trained on or chosen by)",
                     "recipe": f"finetune of {base_card['name']} v{base_card['version']}: {json.dumps(cfg, sort_keys=True)}",
                     "base": base_card["name"], "teacher": teacher.name if teacher else None},
        # The site's validation figures at the chosen epoch; the LIVEC validation of the parent
        # is not this version's, so none is claimed.
        "metrics": {"site_val_srcc": validation["srcc"], "site_val_plcc": validation["plcc"],
                    "site_val_n": n["val"], "epoch": validation["epoch"], "split": "site validation"},
    }
    # The site's ratings refine the overview network; the detail reader and the card's reading
    # (its sharpness reader too: it reads the tiles' pixels, not a network) are the base
    # model's, carried over unchanged, but for an exposure reader: it reads the
    # overview's embedding, which the fine-tune changed, so it is fitted anew through the new
    # graph on ladders of the site's training photos and kept only where it reads them better
    # than the base's reader does (training/exposure_reader.py, refit_reader).
    reading = dict(base_card["reading"]) if "reading" in base_card else None
    extra = None
    if reading is not None:
        reading.pop("exposure", None)
        # The readers' sentences travel with their blocks (the exposure reader's comes with its refit).
        notes = {k: v for k, v in (base_card.get("notes") or {}).items() if k in reading}
        extra = {"reading": reading} | ({"notes": notes} if notes else {})
    base_reader = ExposureReader.from_card(base_card)
    onnx_path, card_path = export_model(model, out / name, info_card, extra)
    if base_card.get("detail_model"):
        attach_detail_graph(card_path, base_onnx.with_name(base_card["detail_model"]["onnx_file"]), base_card["detail_model"])
    if base_reader is not None:  # refitted, or kept where it reads the new graph better
        train = data.photos["train"]
        refit_reader(onnx_path, [lambda p=p: load_rgb(p.item.image) for p in train], [p.item.mos for p in train],
                     cfg.get("threads"), int(cfg.get("seed", 0)), base=base_reader)
    # What the next fine-tune of this version needs travels with it.
    save_slim_weights(model, onnx_path.with_suffix(".pt"), {"metrics": info_card["metrics"]})
    if carried is not None:
        _copy(carried, onnx_path.with_name("teacher.pt"))  # ~10 MB: each version stands alone

    mos = np.array([it.mos for it in test_items])
    threads = cfg.get("threads")
    before_pred, after_pred = predict_onnx(base_onnx, test_items, threads), predict_onnx(onnx_path, test_items, threads)
    _write_predictions(out / "test_predictions.csv", test_items, before_pred, after_pred)
    comparison = compare_srcc(mos, before_pred, after_pred, seed=int(cfg.get("seed", 0)))
    registered, decision = decide(comparison, validation)
    report = {
        "before": _metrics(before_pred, mos), "after": _metrics(after_pred, mos), "held_out": n["test"],
        "test": comparison.to_json(), "validation": validation,
        "split": {"rule": rule.to_json(), "rule_from": "parent" if inherited else "config", "counts": n,
                  "describe": rule.describe()},
        "registered": registered, "decision": decision, "min_votes": min_votes,
        "teacher": teacher.name if teacher else None, "unlabeled_photos": len(unlabeled), "recipe": recipe,
    } | info
    annotate_card(card_path, {
        "site_evaluation": report,
        "site_split": {"rule": rule.to_json(), "test": sorted(p.key for p in data.photos["test"])},
        "parent": {"name": base_card["name"], "version": base_card["version"], "sha256": base_card["sha256"],
                   "identity": model_identity(base_card)},
        "finetune": {"weights": onnx_path.with_suffix(".pt").name, "teacher": "teacher.pt" if carried else None,
                     "weights_sha256": sha256_file(onnx_path.with_suffix(".pt"))},
    })
    if registered:
        db = open_database(db_url)
        try:
            # Made here from a model the station runs: trusted as this station's own version.
            register_model(db, load_model(onnx_path).card, str(onnx_path), origin="fine-tuned",
                           approved_by=f"fine-tune of {base_card['name']} v{base_card['version']}")
        finally:
            db.close()
    else:
        log.warning("%s", decision)
    report["model"] = str(onnx_path)
    with atomic_path(out / "finetune_report.json") as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2) + "\n")
    return report
