"""``python -m training finetune``: the site's ratings, from the app's database, fine-tune its model."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .command_options import CONFIGS


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
