"""Headless commands: ``python -m app score PATH...`` scores photos without a window."""
from __future__ import annotations

import sys
from pathlib import Path

from .core.engine import Engine
from .core.imageio import ImageLoadError, load_rgb
from .core.model_contract import ModelError
from .core.model_loader import load_model

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def iter_photos(paths: list[Path], recursive: bool):
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield p


def score_command(paths: list[Path], model_path: Path, recursive: bool = False) -> int:
    """Print one line per photo and a summary. Bad photos are reported, not fatal (exit 0)."""
    try:
        model = load_model(model_path)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    engine = Engine(model)
    scored, failed = 0, 0
    for photo in iter_photos(paths, recursive):
        try:
            result = engine.score(load_rgb(photo))
        except (ImageLoadError, ValueError) as exc:
            failed += 1
            print(f"{photo}\tERROR\t{exc}")
            continue
        scored += 1
        opinions = " ".join(f"{o:.1f}" for o in result.opinions)
        print(f"{photo}\t{result.score:.1f}\topinions {opinions}\t{result.seconds * 1000:.0f} ms")
    print(f"{scored} scored, {failed} failed with model {model.name} v{model.version}", file=sys.stderr)
    return 0
