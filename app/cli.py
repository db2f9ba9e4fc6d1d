"""Headless commands: ``python -m app score PATH...`` scores photos into the database."""
from __future__ import annotations

import sys
from pathlib import Path

from .core.batch import BatchSummary, score_batch
from .core.engine import Engine
from .core.export import write_scores_csv
from .core.model_contract import ModelError
from .core.model_loader import load_model
from .core.report import write_report
from .core.store import open_database
from .core.store.faults import StoreError
from .core.store.repository import (
    ScoreRecord,
    active_thresholds,
    model_calibration,
    register_model,
    score_rows,
)
from .sources.folder import is_candidate


def iter_photos(paths: list[Path], recursive: bool):
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(f for f in p.glob(pattern) if f.is_file() and is_candidate(f))
        else:
            yield p  # named explicitly: scored (or reported) whatever its name


def progress_bar(summary: BatchSummary, record: ScoreRecord) -> None:
    done = summary.scored + summary.failed + summary.skipped
    width = 30
    filled = int(width * done / max(1, summary.total))
    line = f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{summary.total}  {summary.failed} failed"
    print(line, end="", file=sys.stderr, flush=True)


def database_stopped(summary: BatchSummary) -> int:
    """Exit code 3, with the one line that says why and what is kept."""
    kept = summary.scored + summary.failed
    print(f"error: {summary.error}; {kept} photos stored before the stop are kept", file=sys.stderr)
    return 3


def score_command(paths: list[Path], model_path: Path, db_url: str, csv_out: Path | None = None,
                  recursive: bool = False, report: Path | None = None, provider: str | None = None) -> int:
    """Score into the database and print one line per photo plus a summary.

    Exit 0 even when photos are bad (each gets its status); 2 for a model or database that cannot
    be opened; 3 when a database problem stopped the batch (a lock that outlasted the retries, a
    read-only, full or damaged file): one line says why, and the photos stored before are kept."""
    try:
        model = load_model(model_path, provider=provider)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        db = open_database(db_url)
    except StoreError as exc:  # its message names the database (password hidden) and the reason
        print(f"error: cannot open the {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # bad URL, unreachable server, unwritable file
        print(f"error: cannot open the database {db_url}: {exc}", file=sys.stderr)
        return 2
    summary = BatchSummary()
    try:
        mv = register_model(db, model.card, str(model.onnx_path))
        # The station's calibration of this model, as the window applies it: never mix raw and
        # calibrated scores under one threshold.
        engine = Engine(model, model_calibration(db, mv))

        def print_line(summary: BatchSummary, record: ScoreRecord) -> None:
            if record.status == "ok":
                opinions = " ".join(f"{o:.1f}" for o in record.opinions)
                print(f"{record.path}\t{record.score:.1f}\topinions {opinions}\t{record.seconds * 1000:.0f} ms")
            else:
                print(f"{record.path}\tERROR\t{record.status}: {record.error}")
            progress_bar(summary, record)

        summary = score_batch(iter_photos(paths, recursive), engine, db, mv, progress=print_line, source="cli")
        print(file=sys.stderr)
        if summary.error:
            return database_stopped(summary)
        print(
            f"{summary.scored} scored, {summary.failed} failed, {summary.skipped} already in the database "
            f"(model {model.name} v{model.version})",
            file=sys.stderr,
        )
        if csv_out:
            write_scores_csv(score_rows(db, mv), csv_out)
            print(f"wrote {csv_out}", file=sys.stderr)
        if report:
            write_report(score_rows(db, mv), engine, active_thresholds(db, mv), report)
            print(f"wrote {report}", file=sys.stderr)
    except StoreError as exc:  # before the batch (the model's rows) or after it (CSV, report)
        summary.error = str(exc)
        return database_stopped(summary)
    finally:
        db.close()
    return 0
