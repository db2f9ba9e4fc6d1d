"""The shape most scenarios share, as data: write some files, run ``python -m app score`` on them
once, judge its exit code, then check what it stored. A ``ScoreCase`` says what differs; one
runner judges every case the same way. A case that needs more (two runs, a fault injected between
them, another command) stays a function of its own, registered with ``registry.scenario``.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .common import CliRun, Context, Outcome, cli_args, run_cli, sqlite_rows, write_photos
from .registry import EXIT_0, Exit, judge, outcome, register_rows

# A check of a run that exited as expected: (the case's Outcome, the run, the database) -> None,
# noting on the Outcome what is wrong.
Check = Callable[[Outcome, CliRun, Path], None]


@dataclass(frozen=True)
class ScoreCase:
    """One ``score`` run in a folder of its own (``c<cls>_<name>`` under the run's temp folder)."""

    name: str
    cls: int
    what: str = "score"  # the run, as a failure names it
    exit: Exit | None = EXIT_0  # None: any exit code that is not a crash
    photos: int = 0  # photos written into photos/ first
    make: Callable[[Context, Path], None] | None = None  # writes the case's own files into its folder
    target: str = "photos"  # what the command line names, in the case's folder
    model: Callable[[Context, Path], Path] | None = None  # the card to score with (default: the tiny model)
    approve: bool = True  # pass --trust-model (off where the case is that nothing needs approving)
    db: str = "d.db"  # in the case's folder
    timeout: float | None = None  # default: the context's
    checks: tuple[Check, ...] = ()  # in order, once the exit code is as expected
    slow: bool = False  # left out of --quick and CI


def run_score_case(ctx: Context, case: ScoreCase) -> Outcome:
    o = outcome(case.name, case.cls)
    base = ctx.folder(f"c{case.cls}_{case.name}")
    if case.photos:
        write_photos(base / "photos", case.photos)
    if case.make:
        case.make(ctx, base)
    db = base / case.db
    model = case.model(ctx, base) if case.model else None
    run = run_cli(ctx, cli_args(ctx, [base / case.target], db, model=model, approve=case.approve),
                  timeout=case.timeout)
    if judge(o, run, case.what, case.exit):
        for check in case.checks:
            check(o, run, db)
    return o


def register(cases: Iterable[ScoreCase]) -> None:
    register_rows(cases, run_score_case)


# --- building blocks for the table rows ------------------------------------------------------

def tiny(variant: str) -> Callable[[Context, Path], Path]:
    """``model=``: one of the hand-built tiny models (tests/faults/tinymodel.py)."""
    return lambda ctx, base: ctx.tiny[variant]


def rows_at_least(n: int) -> Check:
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        got = len(sqlite_rows(db))
        if got < n:
            o.note("lost", f"{n - got} of {n} photos have no row", n - got)
    return check


def one_row(not_ok: bool) -> Check:
    """A file named on the command line is stored (``not_ok``: and not scored as a photo)."""
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        rows = sqlite_rows(db)
        if not rows:
            o.note("lost", "no row stored for the file named on the command line")
        elif not_ok and rows[0][1] == "ok":
            o.note("wrong", f"scored as a photo: {rows[0]}")
    return check


def no_rows(why: str) -> Check:
    """A refused run stored nothing."""
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        if sqlite_rows(db):
            o.note("wrong", why)
    return check


def no_ok_rows(why: str) -> Check:
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        if any(r[1] == "ok" for r in sqlite_rows(db)):
            o.note("wrong", why)
    return check


def model_errors_only(o: Outcome, run: CliRun, db: Path) -> None:
    """Every row a model error: no score, no verdict."""
    for path, status, score, verdict, *_ in sqlite_rows(db):
        if status == "ok" or verdict is not None or score is not None:
            o.note("wrong", f"{os.path.basename(path)}: stored status {status}, score {score}, verdict {verdict} "
                            "(should be a model error, no score)")


def all_stored(names: Iterable[str]) -> Check:
    """Every file of ``names`` has a row (none skipped silently)."""
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        missing = sorted(set(names) - {os.path.basename(r[0]) for r in sqlite_rows(db)})
        if missing:
            o.note("lost", f"skipped silently: {', '.join(missing)}", len(missing))
    return check


def peak_rss_below(mb: float, hint: str = "") -> Check:
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        if run.max_rss_mb > mb:
            o.note("wrong", f"peak RSS {run.max_rss_mb:.0f} MB > {mb} MB{hint}")
    return check


def says(words: str, why: str) -> Check:
    """The run's stderr gives the reason it was meant to give."""
    def check(o: Outcome, run: CliRun, db: Path) -> None:
        if words not in run.err:
            o.note("wrong", f"{why}: {run.why()}")
    return check
