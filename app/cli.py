"""Headless commands: ``python -m app score PATH...`` scores photos into the database."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .core.model.contract import ModelError, model_identity
from .core.model.loader import load_model
from .core.model.trust import UntrustedModel, admit_model, current_user
from .core.outputs.batch_report import BatchContext
from .core.outputs.report import write_report
from .core.outputs.reviews import current_reviews, with_reviews
from .core.outputs.scores_csv import write_scores_csv
from .core.scoring.engine import Engine
from .core.scoring.photo import BatchSummary, printable_path, score_batch
from .core.store import open_database
from .core.store.faults import StoreError, cannot_open
from .core.store.repository import (
    ScoreRecord,
    active_thresholds,
    model_calibration,
    score_rows,
)
from .core.store.upgrade import after_upgrade
from .sources.folder import is_candidate


@dataclass
class Listing:
    """What the named paths hold: photos to score, and how many other files were left out."""

    missing: list[Path] = field(default_factory=list)
    ignored: int = 0  # files in the folders that are not photos by name (documents, temp files)


def iter_photos(paths: list[Path], recursive: bool, listing: Listing | None = None):
    """The photos under ``paths``, streamed: a folder's photo-named files (sorted), a file named
    explicitly whatever its name. Counts what a folder holds besides photos in ``listing``."""
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            for f in sorted(p.glob(pattern)):
                if is_candidate(f) and not f.is_dir():
                    yield f
                elif listing is not None and f.is_file():
                    listing.ignored += 1
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
                  recursive: bool = False, report: Path | None = None, provider: str | None = None,
                  trust_model: bool = False) -> int:
    """Score into the database and print one line per photo plus a summary.

    Exit codes: 0 when every photo was handled (bad photos each get their status); 2 for a named
    path that does not exist, or a model or database that cannot be opened (nothing is scored);
    3 when a database problem stopped the batch (a lock that outlasted the retries, a read-only,
    full or damaged file): one line says why, and the photos stored before the stop are kept;
    4 when the model failed on every photo it was given."""
    missing = [p for p in paths if not os.path.lexists(p)]
    if missing:  # a mistyped folder is an error before anything runs, not "0 scored"
        for p in missing:
            print(f"error: no such file or folder: {printable_path(p)}", file=sys.stderr)
        return 2
    try:
        model = load_model(model_path, provider=provider)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        db = open_database(db_url)
    except Exception as exc:  # a damaged file, a bad URL, an unreachable server, an unwritable folder
        print(f"error: {cannot_open(db_url, exc)}", file=sys.stderr)
        return 2
    summary = BatchSummary()
    stored = 0  # photos stored in this run, counted as they are (an interrupted batch returns no summary)
    try:
        approver = f"{current_user()} (--trust-model)" if trust_model else None
        try:
            mv = admit_model(db, model.card, str(model.onnx_path), approver)
        except UntrustedModel as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if approver:
            print(f"model {model.name} v{model.version} (model {model_identity(model.card)}) approved by {approver}",
                  file=sys.stderr)
        notice = after_upgrade(db, mv, model.card, str(model.onnx_path))  # what an upgrade changed, as the window says it
        if notice:
            print(notice, file=sys.stderr)
        # The station's calibration of this model, as the window applies it: never mix raw and
        # calibrated scores under one threshold.
        engine = Engine(model, model_calibration(db, mv))
        model_errors = 0

        def print_line(summary: BatchSummary, record: ScoreRecord) -> None:
            nonlocal model_errors, stored
            stored += 1
            if record.status == "ok":
                opinions = " ".join(f"{o:.1f}" for o in record.opinions)
                print(f"{record.path}\t{record.score:.1f}\topinions {opinions}\t{record.seconds * 1000:.0f} ms")
            else:
                model_errors += record.status == "model_error"
                print(f"{record.path}\tERROR\t{record.status}: {record.error}")
            progress_bar(summary, record)

        listing = Listing()
        summary = score_batch(iter_photos(paths, recursive, listing), engine, db, mv, progress=print_line, source="cli")
        print(file=sys.stderr)
        if summary.error:
            return database_stopped(summary)
        ignored = f", {listing.ignored} other files left out (not photos by name)" if listing.ignored else ""
        print(
            f"{summary.scored} scored, {summary.failed} failed, {summary.skipped} already in the database "
            f"and unchanged{ignored} (model {model.name} v{model.version})",
            file=sys.stderr,
        )
        # The inspectors' decisions made at the window travel with the scores (the disposition).
        rows = with_reviews(score_rows(db, mv), current_reviews(db)) if csv_out or report else []
        if csv_out:
            write_scores_csv(rows, csv_out)
            print(f"wrote {csv_out}", file=sys.stderr)
        if report:
            context = BatchContext(source=", ".join(str(p) for p in paths), operator=current_user())
            write_report(rows, engine, active_thresholds(db, mv), report, context=context)
            print(f"wrote {report}", file=sys.stderr)
        attempted = summary.scored + summary.failed
        if attempted and model_errors == attempted:
            print(f"error: the model failed on every photo ({attempted}); see the messages above", file=sys.stderr)
            return 4
    except StoreError as exc:  # before the batch (the model's rows) or after it (CSV, report)
        summary.error = str(exc)
        return database_stopped(summary)
    except KeyboardInterrupt:  # Ctrl+C: each photo's row is its own transaction, so what is stored stands
        print(f"\ninterrupted: {stored} photos stored in this run are kept; run the same command again to resume",
              file=sys.stderr)
        return 130
    finally:
        db.close()
    return 0
