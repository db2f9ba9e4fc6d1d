"""``finetune``: adapt the current model to a site's own ratings, collected in the app's database.

1. Votes -> BT.500 screening -> MOS per photo (screened raters left out), photos with at least
   ``min_votes`` standing votes; a seeded part is held out and never trained on.
2. The student starts from the base model's weights (``NAME.pt`` beside ``NAME.onnx``). With the
   teacher's weights (``teacher.pt`` in the same folder) it is distillation: the teacher keeps the
   student from forgetting, and labels the site's unrated photos; without them, plain MOS training.
3. The result is exported as a new version (``NAME-site-<time>``), evaluated before and after on the
   held-out ratings as the app runs it (ONNX), and registered in the database with its metrics.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from app.core.labeling import gold_answers, screened_site_mos
from app.core.model_loader import load_model, resolve_model_files
from app.core.store import open_database
from app.core.store.repository import register_model
from app.core.store.urls import hide_password
from app.core.store.schema import Image, Score
from models import load_checkpoint

from .data.mos import MOSItem, write_mos_csv
from .evaluate import evaluate_onnx
from .export import annotate_card, attach_detail_graph, export_model

log = logging.getLogger(__name__)


def site_mos(db_url: str, min_votes: int) -> tuple[list[MOSItem], dict]:
    db = open_database(db_url)
    try:
        mos, info = screened_site_mos(db, min_votes)
        items = [MOSItem(m.image, m.mos100, m.std * 25) for m in mos.values()]
        with db.session() as s:
            rated = set(mos) | set(gold_answers(db))
            unrated = [p for (p,) in s.execute(select(Image.path).join(Score).where(Score.status == "ok").distinct()) if p not in rated]
    finally:
        db.close()
    info = {"raters": info["raters"], "rejected_raters": info["rejected_raters"], "rated_photos": len(items),
            "unrated_photos": len(unrated)}
    return sorted(items, key=lambda i: i.image), info | {"unrated": unrated}


def run_finetune(cfg: dict, db_url: str, base: Path, out: Path) -> dict:
    from .stage_distill import run_distill
    from .stage_mos import run_mos_stage

    base_onnx, base_card_path = resolve_model_files(base)
    base_card = load_model(base_onnx).card
    student_ckpt = base_onnx.with_suffix(".pt")
    if not student_ckpt.exists():
        raise FileNotFoundError(f"{student_ckpt.name}: the base model's torch weights are needed to fine-tune it")
    teacher_ckpt = base_onnx.parent / "teacher.pt"
    items, info = site_mos(db_url, cfg.get("min_votes", 3))
    if len(items) < cfg.get("min_photos", 20):
        raise ValueError(f"only {len(items)} photos have {cfg.get('min_votes', 3)}+ standing votes; "
                         f"rate at least {cfg.get('min_photos', 20)} before fine-tuning")
    order = np.random.default_rng(cfg.get("split_seed", 0)).permutation(len(items))
    n_val = max(3, int(round(len(items) * cfg.get("val_fraction", 0.25))))
    val_idx = set(order[:n_val].tolist())
    split = [MOSItem(it.image, it.mos, it.std, "val" if i in val_idx else "train") for i, it in enumerate(items)]
    out.mkdir(parents=True, exist_ok=True)
    meta = out / "site_mos.csv"
    write_mos_csv([it for it in split if it.split == "train"], out / "site_train.csv")
    write_mos_csv([it for it in split if it.split == "val"], out / "site_val.csv")
    write_mos_csv(split, meta, with_split=True)

    before = evaluate_onnx(base_onnx, out / "site_val.csv", Path("/"))
    stage_cfg = cfg | {"init": str(student_ckpt)}
    run = out / "run"
    if teacher_ckpt.exists():
        run_distill(stage_cfg, meta, Path("/"), teacher_ckpt, run, unlabeled=[Path(p) for p in info["unrated"]])
    else:
        log.warning("no teacher.pt beside the base model: fine-tuning on the site's MOS alone")
        run_mos_stage(stage_cfg, meta, Path("/"), run)

    model, ckpt = load_checkpoint(run / "best.pt")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{base_onnx.stem}-site-{stamp}"
    info_card = {
        "version": f"{base_card['version']}+site.{stamp}",
        "training": {"data": f"site ratings from {hide_password(db_url)}: {len(items) - n_val} train / {n_val} held out",
                     "recipe": f"finetune of {base_card['name']} v{base_card['version']}: {json.dumps(cfg, sort_keys=True)}",
                     "base": base_card["name"], "teacher": teacher_ckpt.name if teacher_ckpt.exists() else None},
        "metrics": ckpt["card_info"].get("metrics", {}),
    }
    # The site's ratings refine the overview network; the detail reader and the card's reading
    # are the base model's, carried over unchanged.
    extra = {"reading": base_card["reading"]} if "reading" in base_card else None
    onnx_path, card_path = export_model(model, out / name, info_card, extra)
    if base_card.get("detail_model"):
        attach_detail_graph(card_path, base_onnx.with_name(base_card["detail_model"]["onnx_file"]), base_card["detail_model"])
    after = evaluate_onnx(onnx_path, out / "site_val.csv", Path("/"))
    report = {"before": before, "after": after, "held_out": n_val} | {k: v for k, v in info.items() if k != "unrated"}
    annotate_card(card_path, {"site_evaluation": report})
    db = open_database(db_url)
    try:
        # Made here from a model the station runs: trusted as this station's own version.
        register_model(db, load_model(onnx_path).card, str(onnx_path), origin="fine-tuned",
                       approved_by=f"fine-tune of {base_card['name']} v{base_card['version']}")
    finally:
        db.close()
    report["model"] = str(onnx_path)
    (out / "finetune_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
