"""Sub-commands of ``python -m training``; each registers its own arguments and runner."""
from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path


def register_export(sub) -> None:
    p = sub.add_parser("export", help="export a model to NAME.onnx + NAME.json (the app's contract)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="training checkpoint (.pt) to export")
    src.add_argument("--config", help="export a freshly initialised model of this config (student, teacher, paper)")
    p.add_argument("--out", type=Path, required=True, help="output path without suffix: DIR/NAME")
    p.add_argument("--no-pretrained", action="store_true", help="with --config: random backbone, no ImageNet weights")
    p.add_argument("--parity", action="store_true", help="also compare ONNX Runtime with torch on two sizes")
    p.add_argument("--version", help="model version for the card (default: the checkpoint's, else 0.0.0)")
    p.add_argument("--torch-weights", action="store_true",
                   help="also write NAME.pt (float16 state dict + config) beside the model, for fine-tuning")
    p.add_argument("--detail-checkpoint", type=Path,
                   help="a second network for the card's detail reader (native tiles and maps), e.g. the scale stage's")
    p.add_argument("--detail-onnx", type=Path, nargs=2, metavar=("GRAPH", "CHECKPOINT"),
                   help="an exported detail graph (e.g. `top`'s views.onnx) and the checkpoint whose card_info describes it")
    p.add_argument("--card-extra", type=Path, help="JSON file of further card fields (commands, credits, evaluations)")
    p.set_defaults(run=run_export)


def run_export(args) -> int:
    from models import create_model, load_checkpoint

    from .export import export_model, parity

    if args.checkpoint:
        model, ckpt = load_checkpoint(args.checkpoint)
        info = ckpt.get("card_info", {})
    else:
        model = create_model(args.config, weights=None if args.no_pretrained else "auto")
        info = {}
    if args.version:
        info = info | {"version": args.version}
    extra = json.loads(args.card_extra.read_text()) if args.card_extra else None
    detail, detail_info = None, None
    if args.detail_checkpoint:
        detail, detail_ckpt = load_checkpoint(args.detail_checkpoint)
        detail_info = detail_ckpt.get("card_info", {})
    detail_graph = None
    if args.detail_onnx:
        if detail is not None:
            raise SystemExit("export: give --detail-checkpoint or --detail-onnx, not both")
        import torch

        detail_graph = args.detail_onnx[0]
        detail_info = torch.load(args.detail_onnx[1], map_location="cpu", weights_only=True).get("card_info", {})
    onnx_path, card_path = export_model(model, args.out, info, extra, detail, detail_info, detail_graph)
    print(f"wrote {onnx_path} and {card_path}" + (" (and the detail graph)" if detail is not None else ""))
    if args.torch_weights:
        from .export import save_slim_weights

        print(f"wrote {save_slim_weights(model, onnx_path.with_suffix('.pt'), info)}")
        if detail is not None:
            print(f"wrote {save_slim_weights(detail, onnx_path.with_name(onnx_path.stem + '-detail.pt'), detail_info)}")
    if args.parity:
        sizes = [(256, 320), (333, 250)]
        print(json.dumps(parity(model, onnx_path, sizes), indent=2))
        if detail is not None:
            print(json.dumps({"detail": parity(detail, onnx_path.with_name(onnx_path.stem + "-detail.onnx"), sizes)}, indent=2))
    return 0



CONFIGS = Path(__file__).parent / "configs"


def add_stage_options(p, default_config: str) -> None:
    """Options every training stage shares; config values are overridden only when given."""
    p.add_argument("--config", type=Path, default=CONFIGS / default_config, help="stage config (JSON)")
    p.add_argument("--out", type=Path, required=True, help="run folder: checkpoints, logs, curves")
    p.add_argument("--init", type=Path, help="start from this checkpoint instead of ImageNet weights")
    p.add_argument("--epochs", type=int, help="override the config's epochs")
    p.add_argument("--crop", type=int, help="override the config's crop size")
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--seed", type=int)
    p.add_argument("--stop-after", type=int, dest="stop_after", help="stop once this many epochs are done; rerun to resume")
    p.add_argument("--time-limit", type=int, dest="time_limit_s", help="seconds: start no epoch that would end later")
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: the config's, else cuda when available)")
    p.add_argument("--workers", type=int, dest="num_workers", help="data-loading processes (default 0: in-process)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", dest="settings",
                   help="override any config value; VALUE is JSON (else a string); KEY may be dotted: aux.crop=256")


def stage_config(args) -> dict:
    from .stage_mos import load_stage_config

    overrides = {k: getattr(args, k) for k in ("epochs", "crop", "batch_size", "seed", "stop_after", "time_limit_s",
                                               "device", "num_workers")}
    overrides["init"] = str(args.init) if args.init else None
    return apply_settings(load_stage_config(args.config, overrides), args.settings)


def apply_settings(cfg: dict, settings: list[str]) -> dict:
    """``KEY=VALUE`` overrides, dotted keys reaching into nested objects (``aux.crop=256``)."""
    for setting in settings:
        key, sep, raw = setting.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set {setting!r}: expected KEY=VALUE")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        *parents, leaf = key.split(".")
        node = cfg
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    return cfg


def print_last_epoch(history: list[dict]) -> int:
    print(json.dumps(history[-1], indent=2))
    return 0


def register_pretrain(sub) -> None:
    p = sub.add_parser("pretrain", help="synthetic pre-training: rank distortion levels, localise damaged regions")
    add_stage_options(p, "pretrain_teacher.json")
    p.add_argument("--pristine", type=Path, nargs="+", required=True, help="folders of clean photos")
    p.set_defaults(run=lambda args: print_last_epoch(_run_pretrain(args)))


def _run_pretrain(args):
    from .stage_pretrain import run_pretrain

    return run_pretrain(stage_config(args), args.pristine, args.out)


def add_mos_options(p) -> None:
    p.add_argument("--csv", type=Path, required=True, help="MOS meta file: image,mos,std[,split]")
    p.add_argument("--root", type=Path, required=True, help="folder the CSV's image paths are relative to")


def register_teacher(sub) -> None:
    p = sub.add_parser("teacher", help="train on MOS (the teacher; or a student directly, as a baseline)")
    add_stage_options(p, "teacher.json")
    add_mos_options(p)
    p.add_argument("--pristine", type=Path, nargs="*", default=[],
                   help="clean photos for the config's synthetic ranking/map terms (\"aux\")")
    p.set_defaults(run=lambda args: print_last_epoch(_run_teacher(args)))


def _run_teacher(args):
    from .stage_mos import run_mos_stage

    return run_mos_stage(stage_config(args), args.csv, args.root, args.out, args.pristine)


def register_joint(sub) -> None:
    p = sub.add_parser("joint", help="learn from several human-rated datasets at once, each compared only within itself")
    add_stage_options(p, "joint_student.json")
    p.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"),
                   help="a rated dataset: its name, its ratings file (pyiqa image,mos or BIQ2021 'Image Name,MOS') "
                        "and the folder its image paths are relative to; repeat for each dataset")
    p.add_argument("--anchor", required=True, help="the dataset whose MOS scale the score takes (the others only rank)")
    p.add_argument("--pristine", type=Path, nargs="*", default=[],
                   help="clean photos for the config's synthetic ranking/map/verdict terms (\"aux\")")
    p.set_defaults(run=lambda args: print_last_epoch(_run_joint(args)))


def _run_joint(args):
    from .data.rated_sets import parse_rated_set
    from .stage_joint import run_joint_stage

    sets = [parse_rated_set(values, args.anchor) for values in args.data]
    if args.anchor not in {s.name for s in sets}:
        raise SystemExit(f"joint: --anchor {args.anchor} names none of the --data sets")
    try:
        return run_joint_stage(stage_config(args), sets, args.out, args.pristine)
    except ValueError as exc:
        raise SystemExit(f"joint: {exc}") from None


def register_distill(sub) -> None:
    p = sub.add_parser("distill", help="train the student from a frozen teacher (+ MOS, unlabeled and synthetic images)")
    add_stage_options(p, "distill.json")
    add_mos_options(p)
    p.add_argument("--teacher", type=Path, required=True, help="teacher checkpoint (best.pt of the teacher stage)")
    p.add_argument("--unlabeled", type=Path, nargs="*", default=[], help="folders of unrated photos for pseudo-labels")
    p.add_argument("--pristine", type=Path, nargs="*", default=[], help="folders of clean photos to distort synthetically")
    p.set_defaults(run=lambda args: print_last_epoch(_run_distill(args)))


def _run_distill(args):
    from .stage_distill import run_distill

    return run_distill(stage_config(args), args.csv, args.root, args.teacher, args.out, args.unlabeled, args.pristine)


def register_scale(sub) -> None:
    p = sub.add_parser("scale", help="teach a trained model the scale principle (MOS + high-res consistency + native damage)")
    add_stage_options(p, "scale.json")
    add_mos_options(p)
    p.add_argument("--hires", type=Path, nargs="+", required=True,
                   help="folders of clean high-resolution photos (half are held out for the scale benchmark)")
    p.set_defaults(run=lambda args: print_last_epoch(_run_scale(args)))


def _run_scale(args):
    from .stage_scale import run_scale_stage

    cfg = stage_config(args)
    if not cfg.get("init"):
        raise SystemExit("scale: --init CHECKPOINT is required (the stage refines a trained model)")
    return run_scale_stage(cfg, args.csv, args.root, args.hires, args.out)


def register_damage(sub) -> None:
    p = sub.add_parser("damage", help="give a trained network a map-only damage head (its scores stay exactly as they are)")
    add_stage_options(p, "damage.json")
    p.add_argument("--hires", type=Path, nargs="+", required=True,
                   help="folders of clean high-resolution photos (the scale stage's held-out half is never read)")
    p.add_argument("--pristine", type=Path, nargs="*", default=[], help="further folders of clean photos, all used")
    p.set_defaults(run=lambda args: print_last_epoch(_run_damage(args)))


def _run_damage(args):
    from .stage_damage import run_damage_stage

    cfg = stage_config(args)
    if not cfg.get("init"):
        raise SystemExit("damage: --init CHECKPOINT is required (the head is added to a trained network)")
    return run_damage_stage(cfg, args.hires, args.pristine, args.out)


def register_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="SRCC/PLCC/KRCC/RMSE of an exported model on a MOS CSV (full photos)")
    p.add_argument("--model", type=Path, required=True, help="NAME.onnx (its card beside it)")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--predictions", type=Path, help="per-image predictions CSV (default: beside the model)")
    p.set_defaults(run=run_evaluate)


def run_evaluate(args) -> int:
    from .evaluate import evaluate_onnx

    predictions = args.predictions or args.model.with_name(args.model.stem + "_predictions.csv")
    metrics = evaluate_onnx(args.model, args.csv, args.root, predictions)
    print(json.dumps(metrics, indent=2))
    return 0


def register_evaluate_synthetic(sub) -> None:
    p = sub.add_parser("evaluate-synthetic", help="monotonicity and localisation on distorted pristine photos")
    p.add_argument("--model", type=Path, required=True, help="NAME.onnx (its card beside it)")
    p.add_argument("--pristine", type=Path, nargs="+", required=True, help="folders of clean photos")
    p.add_argument("--crop", type=int, default=512, help="center crop side (bounds the cost; never resized)")
    p.add_argument("--native", action="store_true", help="judge the native-resolution maps the viewer shows (as the score counts damage, and the tiles' plain map), not the overview's")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=run_evaluate_synthetic)


def run_evaluate_synthetic(args) -> int:
    from .evaluate_synthetic import evaluate_synthetic

    print(json.dumps(evaluate_synthetic(args.model, args.pristine, args.crop, seed=args.seed, native=args.native), indent=2))
    return 0


def register_finetune(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune the current model on the site's ratings (from the app's database)")
    p.add_argument("--db", help="the app's database URL or SQLite file (default: $MOBILEIQA_DB_URL, which keeps "
                                "a password out of the process list)")
    p.add_argument("--base", type=Path, required=True, help="the current model (folder, .onnx or .json); NAME.pt beside it")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--config", type=Path, default=CONFIGS / "finetune.json")
    p.add_argument("--epochs", type=int)
    p.set_defaults(run=run_finetune_command)


def run_finetune_command(args) -> int:
    from app.core.store.database import sqlite_url
    from app.core.store.urls import DB_URL_ENV

    from .finetune import run_finetune
    from .stage_mos import load_stage_config

    given = args.db or os.environ.get(DB_URL_ENV)
    if not given:
        print(f"error: name the database with --db or ${DB_URL_ENV}", file=sys.stderr)
        return 2
    db = given if "://" in given else sqlite_url(given)
    try:
        report = run_finetune(load_stage_config(args.config, {"epochs": args.epochs}), db, args.base, args.out)
    except (ValueError, FileNotFoundError) as exc:  # too few ratings, no weights: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


def register_annotate(sub) -> None:
    p = sub.add_parser("annotate", help="add fields (evaluations, commands, credits) to an exported model's card")
    p.add_argument("--card", type=Path, required=True, help="NAME.json beside NAME.onnx")
    p.add_argument("--merge", type=Path, nargs="*", default=[], help="JSON objects whose keys are added to the card")
    p.add_argument("--field", nargs="*", default=[], metavar="NAME=FILE", help="add FILE's JSON under NAME")
    p.set_defaults(run=run_annotate)


def run_annotate(args) -> int:
    from .export import annotate_card

    fields = {}
    for f in args.merge:
        fields.update(json.loads(f.read_text()))
    for pair in args.field:
        name, _, path = pair.partition("=")
        fields[name] = json.loads(Path(path).read_text())
    annotate_card(args.card, fields)
    print(f"updated {args.card}")
    return 0


def register_split(sub) -> None:
    p = sub.add_parser("split", help="write the fixed train/val split of a MOS CSV as two CSVs (for evaluate)")
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for train.csv and val.csv")
    p.add_argument("--val-fraction", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=0, help="the stages' split_seed")
    p.set_defaults(run=run_split)


def run_split(args) -> int:
    from .data.mos import read_mos_csv, split_items, write_mos_csv

    train, val = split_items(read_mos_csv(args.csv), args.val_fraction, args.seed)
    for name, items in (("train", train), ("val", val)):
        write_mos_csv(items, args.out / f"{name}.csv")
        print(f"{args.out / f'{name}.csv'}: {len(items)} photos")
    return 0


def register_top(sub) -> None:
    p = sub.add_parser("top-cache", help="run a network's frozen trunk once over rated photos and synthetic ladders (for `top`)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--init", type=Path, help="the checkpoint whose trunk is frozen")
    source.add_argument("--views-onnx", type=Path, dest="views_onnx",
                        help="an exported graph (card beside it) whose views alone are to be retrained: its LDA grid is cached")
    p.add_argument("--config", type=Path, default=CONFIGS / "top_student.json", help="stage config (its split rule)")
    p.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"),
                   help="a rated dataset, as for `joint`; repeat for each")
    p.add_argument("--kodak", type=Path, nargs="*", default=[], help="clean photos used whole for synthetic ladders")
    p.add_argument("--hires", type=Path, nargs="*", default=[],
                   help="high-resolution clean photos: their seeded training half gives ladders, the other half stays held out")
    p.add_argument("--tiles", type=int, nargs=2, metavar=("TILE", "COUNT"),
                   help="ladders of the native tiles a detail reader reads (tile side, tiles per photo), "
                        "not of the photos at the overview's size")
    p.add_argument("--tile-sides", type=int, nargs="+", default=[0], dest="tile_sides",
                   help="with --tiles: the photo's long sides to cut tiles from (0: native; default native only)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.add_argument("--out", type=Path, required=True, help="cache folder (several GB for BIQ2021)")
    p.set_defaults(run=_run_top_cache)

    p = sub.add_parser("top", help="retrain a network's top (last blocks, LDA, MAL, fusion) on a `top-cache`")
    add_stage_options(p, "top_student.json")
    p.add_argument("--cache", type=Path, required=True, help="the folder `top-cache` wrote")
    p.add_argument("--anchor", required=True, help="the dataset whose MOS scale the score takes (the others only rank)")
    p.set_defaults(run=lambda args: print_last_epoch(_run_top(args)))


def _run_top_cache(args) -> int:
    import torch

    from .data.rated_sets import parse_rated_set
    from .stage_mos import load_stage_config
    from .data.cache_rows import training_pristine
    from .stage_top import build_top_cache, views_features
    from .onnx_views import graph_card
    from .trunk_cache import torch_trunk
    from models import load_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = load_stage_config(args.config, {})
    if args.init:
        model, _ = load_checkpoint(args.init)
        features, mean, std = torch_trunk(model), model.config.mean, model.config.std
    else:
        card = graph_card(args.views_onnx)
        features, mean, std = views_features(args.views_onnx, args.threads), card["input"]["mean"], card["input"]["std"]
    sets = [parse_rated_set(values, None) for values in args.data]
    pristine = training_pristine(args.kodak, args.hires, cfg.get("seed", 0))
    counts = build_top_cache(features, mean, std, sets, cfg, pristine, args.out, side=cfg.get("side", 512),
                             tiles=args.tiles, tile_sides=tuple(args.tile_sides))
    print(", ".join(f"{name}: {n} photos" for name, n in counts.items()))
    return 0


def _run_top(args):
    from .stage_top import run_top_stage

    cfg = stage_config(args)
    if not args.init and not cfg.get("views_onnx"):
        raise SystemExit("top: --init names the checkpoint whose trunk the cache was made with "
                         "(or --set views_onnx=GRAPH for a views cache)")
    try:
        return run_top_stage(cfg, args.cache, args.anchor, args.out)
    except ValueError as exc:
        raise SystemExit(f"top: {exc}") from None


def register_exposure_reader(sub) -> None:
    p = sub.add_parser("exposure-reader", help="give an exported model an exposure reader (a new model: same graphs, new card)")
    p.add_argument("--model", type=Path, required=True, help="the exported model whose overview embedding is read")
    p.add_argument("--data", nargs=3, action="append", required=True, metavar=("NAME", "CSV", "ROOT"),
                   help="a rated dataset whose training split gives the photos (its validation split is never read)")
    p.add_argument("--config", type=Path, default=CONFIGS / "joint_student.json", help="the split's fractions and seed")
    p.add_argument("--photos", type=int, default=1500, help="at most this many training photos per dataset (seeded); those rated at or above its median get copies")
    p.add_argument("--copies", type=int, default=4, help="exposure copies per photo, at seeded distinct stops")
    p.add_argument("--version", required=True, help="the new model's version")
    p.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads (default: all cores)")
    p.add_argument("--onset", type=float, default=None,
                   help="the probability past which the cap falls (default: training/exposure_reader.py's CAP_ONSET, "
                        "and why)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True, help="folder for the new model's files")
    p.set_defaults(run=_run_exposure_reader)


def _run_exposure_reader(args) -> int:
    from datetime import UTC, datetime

    import numpy as np

    from app.core.imageio.decode import load_rgb
    from app.core.model.loader import load_model
    from app.core.scoring.engine import Engine

    from .data.rated_sets import parse_rated_set
    from .exposure_reader import CAP_ONSET, copies_of_the_good, fit_reader, ladder_features, with_reader, write_model
    from .stage_joint import load_splits

    onset = CAP_ONSET if args.onset is None else args.onset
    if not 0 <= onset < 1:
        raise SystemExit(f"--onset {onset:g}: a probability from 0 up to (not including) 1")
    model = load_model(args.model, threads=args.threads or None)
    train, _ = load_splits([parse_rated_set(values, None) for values in args.data], json.loads(args.config.read_text()))
    rng = np.random.default_rng(args.seed)
    chosen = []
    copies = []
    for name in dict.fromkeys(it.dataset for it in train):
        items = [it for it in train if it.dataset == name]
        picked = [items[i] for i in sorted(rng.choice(len(items), min(args.photos, len(items)), replace=False))]
        chosen += picked
        copies += copies_of_the_good([it.mos for it in picked])  # see training/exposure_reader.py
    args.out.mkdir(parents=True, exist_ok=True)
    ladders = ladder_features(Engine(model), [lambda it=it: load_rgb(it.image) for it in chosen], args.copies, args.seed,
                              with_copies=copies, progress=args.out / "ladders.npz", names=[it.image for it in chosen])
    reader, report = fit_reader(ladders, seed=args.seed, onset=onset)
    report["data"] = {name: {"photos": sum(it.dataset == name for it in chosen),
                             "with_copies": sum(c for it, c in zip(chosen, copies) if it.dataset == name)}
                      for name in dict.fromkeys(it.dataset for it in chosen)}
    card = with_reader(model.card, reader, report) | {"version": args.version, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    card["commands"] = list(card.get("commands") or []) + ["python -m training " + shlex.join(args.argv)]
    card.pop("evaluations", None)  # the base's figures; this model's are measured anew
    onnx = write_model(args.model, card, args.out)
    print(f"wrote {onnx} (l2 {report['l2']:g}); cross-validated, per stop: share capped below 40 / below 60:")
    for stop, row in report["cross_validated"].items():
        print(f"  {stop:>5} stops  n={row['n']:5d}  {row['cap_below_40']:.2f} / {row['cap_below_60']:.2f}")
    return 0


# The order of `python -m training --help`: the recipe's stages first, then the tools.
REGISTRY = [
    register_pretrain, register_teacher, register_joint, register_top, register_distill, register_scale, register_damage, register_export, register_evaluate,
    register_evaluate_synthetic, register_split, register_annotate, register_finetune, register_exposure_reader,
]
