"""The training stages' sub-commands of ``python -m training`` (the recipe's steps, in its order)."""
from __future__ import annotations

from pathlib import Path

from .command_options import CONFIGS, add_mos_options, add_stage_options, print_last_epoch, stage_config


def register_pretrain(sub) -> None:
    p = sub.add_parser("pretrain", help="synthetic pre-training: rank distortion levels, localise damaged regions")
    add_stage_options(p, "pretrain_teacher.json")
    p.add_argument("--pristine", type=Path, nargs="+", required=True, help="folders of clean photos")
    p.set_defaults(run=lambda args: print_last_epoch(_run_pretrain(args)))


def _run_pretrain(args):
    from .stage_pretrain import run_pretrain

    return run_pretrain(stage_config(args), args.pristine, args.out)


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

    p = sub.add_parser("teacher-labels", help="an ensemble of trained tops scores every photo of its caches once "
                                              "(`top --set teacher_labels=FILE` learns from it)")
    p.add_argument("--member", nargs=2, action="append", default=[], type=Path, metavar=("CHECKPOINT", "CACHE"),
                   help="a trained network and the `top-cache` of its trunk; repeat for each member")
    p.add_argument("--from", type=Path, nargs="+", default=[], dest="earlier", metavar="LABELS",
                   help="labels files written before: their members join without being scored again")
    p.add_argument("--weights", type=float, nargs="+",
                   help="each member's weight, the --from files' members first (default: equal)")
    p.add_argument("--weights-for", nargs="+", action="append", default=[], dest="weights_for", metavar="NAME W",
                   help="a dataset's own weights for its rated photos: NAME then one weight per member; repeat")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.add_argument("--out", type=Path, required=True, help="the labels file (JSON) to write")
    p.set_defaults(run=_run_teacher_labels)

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


def _run_teacher_labels(args) -> int:
    import torch

    from .teacher_labels import make_labels, summary_table

    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.member and not args.earlier:
        raise SystemExit("teacher-labels: name at least one --member or --from file")
    try:
        weights_for = {name: [float(w) for w in ws] for name, *ws in args.weights_for}
        summary = make_labels([tuple(m) for m in args.member], args.weights, args.out, args.earlier, weights_for)
    except ValueError as exc:
        raise SystemExit(f"teacher-labels: {exc}") from None
    print(summary_table(summary))
    print(", ".join(f"{part}: {n} photos labelled" for part, n in summary["rows"].items()))
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
