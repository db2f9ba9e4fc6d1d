"""Sub-commands of ``python -m training``; each registers its own arguments and runner."""
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
    onnx_path, card_path = export_model(model, args.out, info)
    print(f"wrote {onnx_path} and {card_path}")
    if args.parity:
        print(json.dumps(parity(model, onnx_path, [(256, 320), (333, 250)]), indent=2))
    return 0


REGISTRY = [register_export]
