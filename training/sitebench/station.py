"""A fresh station for one benchmark size: its own home (``MOBILEIQA_HOME``), the rated photos
scored there by the base model (so the calibration finds their embeddings, as the panel would),
and the simulated votes imported through the program's own ``ratings import`` command.

Only the rated photos are scored: a scored photo without ratings would reach the fine-tune's
teacher as unlabeled material, and the benchmark measures what n rated photos buy.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.model.loader import load_model
from app.core.paths import default_database
from app.core.scoring.engine import Engine
from app.core.scoring.photo import score_batch
from app.core.store.urls import DB_URL_ENV
from app.core.workspace import Workspace

from .sites import SitePhoto
from .votes import Vote, write_votes

ROOT = Path(__file__).resolve().parents[2]


def station_env(home: Path, threads: int) -> dict[str, str]:
    """The environment of every child of this station: its home, its thread budget, and no
    database URL inherited from whoever runs the benchmark."""
    env = {k: v for k, v in os.environ.items() if k != DB_URL_ENV}
    return env | {"MOBILEIQA_HOME": str(home), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def database_of(home: Path) -> Path:
    """The database a station with this home opens by default (what ``ratings import`` writes to)."""
    before = os.environ.get("MOBILEIQA_HOME")
    os.environ["MOBILEIQA_HOME"] = str(home)
    try:
        return default_database()
    finally:
        if before is None:
            del os.environ["MOBILEIQA_HOME"]
        else:
            os.environ["MOBILEIQA_HOME"] = before


APPROVER = "the site benchmark (scripts/site_benchmark.py), on its own station"


def score_photos(db: Path, base: Path, photos: list[SitePhoto], threads: int) -> int:
    """Score ``photos`` with ``base`` into ``db`` (the base becomes the station's model); returns
    how many were stored as ok. The benchmark's person chose the base, so a base the program does
    not ship (a cross-dataset model, a candidate) is approved in this station and says so."""
    ws = Workspace(db)
    try:
        ws.load_model(base, approved_by=APPROVER)
        engine = Engine(load_model(base, threads=threads or None))  # the same model, on the benchmark's threads
        summary = score_batch([Path(p.path) for p in photos], engine, ws.db, ws.model_version_id)
    finally:
        ws.close()
    if summary.error:
        raise RuntimeError(f"scoring stopped: {summary.error}")
    return summary.scored


def import_votes(home: Path, votes: list[Vote], csv_path: Path, threads: int) -> str:
    """Write the votes and store them with ``python -m app ratings import`` in the station's home;
    returns what the command said."""
    write_votes(votes, csv_path)
    done = subprocess.run([sys.executable, "-m", "app", "ratings", "import", str(csv_path)], cwd=ROOT,
                          env=station_env(home, threads), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ratings import failed ({done.returncode}): {done.stderr.strip()}")
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def prepare_station(home: Path, base: Path, photos: list[SitePhoto], votes: list[Vote], threads: int) -> dict:
    """A new station in ``home`` with ``photos`` scored and their ``votes`` imported."""
    if home.exists() and any(home.iterdir()):
        raise FileExistsError(f"{home} is not empty: a station starts fresh")
    home.mkdir(parents=True, exist_ok=True)
    db = database_of(home)
    scored = score_photos(db, base, photos, threads)
    wanted = {p.path for p in photos}
    said = import_votes(home, [v for v in votes if v.photo in wanted], home.parent / "votes.csv", threads)
    return {"db": str(db), "scored": scored, "import": said}
