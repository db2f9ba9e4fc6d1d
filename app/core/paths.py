"""Where the program's bundled files live, in a source checkout and in a frozen build."""
from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    # PyInstaller unpacks data files under sys._MEIPASS; a checkout has them next to app/.
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) / "resources" if base else Path(__file__).resolve().parents[2] / "resources"


def default_model_dir() -> Path:
    return resources_dir() / "models"
