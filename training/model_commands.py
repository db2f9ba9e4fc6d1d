"""Sub-commands of ``python -m training`` for exported models: export, evaluate, annotate a card,
write a dataset's split (the readers a card adds: ``reader_commands``)."""
from __future__ import annotations

import json
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


def register_graft_stages(sub) -> None:
    p = sub.add_parser("graft-stages", help="give an exported model's graph the pooled_stages output a site "
                                            "calibration reads (a new model: every score the same)")
    p.add_argument("--model", type=Path, required=True, help="the exported model (NAME.onnx, its card beside it)")
    p.add_argument("--checkpoint", type=Path,
                   help="its network's training checkpoint, to check the grafted output against (default: NAME.pt beside it)")
    p.add_argument("--version", required=True, help="the new model's version")
    p.add_argument("--out", type=Path, required=True, help="folder for the new model's files")
    p.set_defaults(run=run_graft_stages)


def run_graft_stages(args) -> int:
    import shlex
    from datetime import UTC, datetime

    from app.core.model.contract import model_identity
    from app.core.model.loader import read_card

    from .graft_stages import graft_model

    base = read_card(args.model.with_suffix(".json"))
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise SystemExit(f"{args.checkpoint}: no such checkpoint")
    checkpoint = args.checkpoint or args.model.with_suffix(".pt")
    card = base | {
        "version": args.version, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commands": list(base.get("commands") or []) + ["python -m training " + shlex.join(args.argv)],
        "lineage": f"v{args.version}: v{base['version']}'s graphs, readers and reading bit for bit, its overview graph "
                   "given one more output, pooled_stages (the backbone's last two stages averaged over the photo, "
                   "which a site calibration reads beside the embedding); every score and map is "
                   f"v{base['version']}'s, so its evaluations stand. " + str(base.get("lineage") or ""),
        # What lets a station carry the site's thresholds and calibration over (app.core.store.upgrade):
        # graft_model writes nothing unless every output of the base graph is unchanged.
        "same_scores_as": {"identity": model_identity(base), "name": base["name"], "version": base["version"],
                           "checked": "graft-stages: every output of the base graph unchanged (difference 0) "
                                      "on seeded inputs"},
    }
    try:
        onnx, differences = graft_model(args.model, card, args.out, checkpoint if checkpoint.exists() else None)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    print(f"wrote {onnx}; largest difference from the base graph's outputs (and the network's own pooled stages):")
    for name, value in differences.items():
        print(f"  {name:<40} {value:.2g}")
    return 0
