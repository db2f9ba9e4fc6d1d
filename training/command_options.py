"""What the sub-commands of ``python -m training`` share: the configs' folder, every stage's
options, ``--set KEY=VALUE`` overrides."""
from __future__ import annotations

import json
from pathlib import Path

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


def add_mos_options(p) -> None:
    p.add_argument("--csv", type=Path, required=True, help="MOS meta file: image,mos,std[,split]")
    p.add_argument("--root", type=Path, required=True, help="folder the CSV's image paths are relative to")
