"""One benchmark cell: a base model, a site, n rated photos. A fresh station is prepared, then the
calibration and the fine-tune (its default recipe unless told) each run as a child process, as
the window runs them; the result (both methods on the same test photos, their time and peak
memory, the fine-tune's validation curve) is written to ``result.json`` in the cell's folder, so
an interrupted benchmark resumes where it stopped.
"""
from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from app.core.store.database import sqlite_url
from app.core.store.urls import DB_URL_ENV

from .children import run_child
from .plan import SitePlan
from .station import prepare_station, station_env
from .votes import Vote


@dataclass(frozen=True)
class Cell:
    base: Path
    n: int
    folder: Path
    config: Path  # the fine-tune recipe (the benchmark's copy, with its thread count)
    threads: int
    epochs: int | None = None


def run_cell(cell: Cell, plan: SitePlan, votes: list[Vote], log=print) -> dict:
    done = cell.folder / "result.json"
    if done.exists():
        return json.loads(done.read_text())
    rated = plan.rated(cell.n)
    station = prepare_station(cell.folder / "home", cell.base, rated, votes, cell.threads)
    log(f"  n {cell.n}: station with {station['scored']} scored photos ({len(plan.test)} test); {station['import']}")
    env = station_env(cell.folder / "home", cell.threads) | {DB_URL_ENV: sqlite_url(station["db"])}
    result = {"n": min(cell.n, plan.available()), "asked_n": cell.n, "test_n": len(plan.test), "station": station,
              "calibration": calibrate(cell, env), "finetune": finetune(cell, env)}
    check_same_test_photos(plan, result)
    done.write_text(json.dumps(result, indent=2) + "\n")
    return result


def calibrate(cell: Cell, env: dict) -> dict:
    out = cell.folder / "calibration.json"
    child = run_child([sys.executable, "-m", "training.sitebench.calibrate", "--db", env[DB_URL_ENV],
                       "--config", str(cell.config), "--out", str(out)], env, cell.folder / "calibration.log")
    if child.code != 0:
        raise RuntimeError(f"calibration failed ({child.code}): see {cell.folder / 'calibration.log'}")
    return json.loads(out.read_text()) | {"seconds": child.seconds, "peak_mb": child.peak_mb}


def finetune(cell: Cell, env: dict) -> dict:
    out = cell.folder / "finetune"
    cmd = [sys.executable, "-m", "training", "finetune", "--base", str(cell.base), "--out", str(out),
           "--config", str(cell.config)] + (["--epochs", str(cell.epochs)] if cell.epochs else [])
    child = run_child(cmd, env, cell.folder / "finetune.log")
    if child.code != 0:
        raise RuntimeError(f"fine-tune failed ({child.code}): see {cell.folder / 'finetune.log'}")
    report = json.loads((out / "finetune_report.json").read_text())
    with open(out / "test_predictions.csv", newline="") as f:
        test_photos = sorted(row["image"] for row in csv.DictReader(f))
    return {"test": report["test"], "validation": report["validation"], "registered": report["registered"],
            "decision": report["decision"], "split": report["split"]["counts"], "teacher": report["teacher"],
            "recipe": report.get("recipe"),
            "curve": validation_curve(out / "run" / "history.csv"), "test_photos": test_photos,
            "seconds": child.seconds, "peak_mb": child.peak_mb}


def validation_curve(history_csv: Path) -> list[dict]:
    """Per epoch: validation SRCC, training loss, seconds (what shows over-fitting)."""
    if not history_csv.exists():
        return []
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    keep = ("epoch", "val_srcc", "loss_total", "seconds")
    return [{k: float(row[k]) for k in keep if row.get(k) not in (None, "")} for row in rows]


def check_same_test_photos(plan: SitePlan, result: dict) -> None:
    """Both methods were judged on the plan's test photos, no other (the fine-tune splits the
    rated photos itself: a top-up of a too-small split would show here)."""
    planned = sorted(p.path for p in plan.test)
    for method in ("calibration", "finetune"):
        if result[method]["test_photos"] != planned:
            raise AssertionError(f"{method} was judged on other test photos than the plan's")
