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


def user_data_dir() -> Path:
    """Where the database and settings live: $MOBILEIQA_HOME, else the platform's data folder."""
    import os

    if os.environ.get("MOBILEIQA_HOME"):
        return Path(os.environ["MOBILEIQA_HOME"])
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "MobileIQA"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "MobileIQA"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "mobileiqa"


def default_database() -> Path:
    return user_data_dir() / "inspector.db"
