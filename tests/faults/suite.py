"""The parts of the fault suite, each returning Outcomes; tests/faults/__main__.py runs them all and
tests/test_fault_suite.py runs a reduced set of the same functions."""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

# Importing a module registers its scenarios, in the order they run and are listed in.
from . import scenarios, archive_startup, dbfaults, site_state, site_trust  # noqa: F401,I001
from . import corpus, fuzz, kills, registry, stations
from .common import REPO, Context, Outcome, WorkerClient
from .tinymodel import VARIANTS, write_tiny_model

BUNDLED = REPO / "resources" / "models"


def make_context(root: Path, quick: bool = False, app_root: Path | None = None) -> Context:
    root.mkdir(parents=True, exist_ok=True)
    tiny = {v: write_tiny_model(root / "models", v) for v in VARIANTS}
    return Context(root=root, tiny=tiny, bundled=BUNDLED, quick=quick, app_root=app_root or REPO)


class Workers:
    """One worker per model the file cases need (the tiny model, the shipped one), started lazily."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._w: dict[str, WorkerClient] = {}

    def get(self, model: str) -> WorkerClient:
        if model not in self._w:
            card = self.ctx.tiny["ok"] if model == "tiny" else next(BUNDLED.glob("*.json"))
            self._w[model] = WorkerClient(self.ctx, card, f"worker-{model}")
        return self._w[model]

    def close(self) -> None:
        for w in self._w.values():
            w.close()


def judge_file_case(case: corpus.FileCase, ans: dict) -> Outcome:
    o = Outcome(case.name, registry.GROUPS[case.cls])
    crash = corpus.crashed(ans)
    if crash == "hang":
        o.note("hangs", "no answer within the time limit")
    elif crash:
        o.note("crashes", crash)
    else:
        wrong = case.expect(ans)
        if wrong:
            o.note("wrong", wrong)
    return o


def run_file_case(ctx: Context, workers: Workers, case: corpus.FileCase, folder: Path | None = None) -> Outcome:
    folder = folder or ctx.folder("corpus")
    path = corpus.file_path(folder, case)
    if not os.path.lexists(path):
        case.build(path)
    try:
        ans = workers.get(case.model).ask({"op": "file", "path_hex": os.fsencode(path).hex()}, timeout=120)
    except RuntimeError as exc:  # the worker cannot even start (the app does not import, the model does not load)
        ans = {"died": True, "rc": None, "stderr": str(exc)}
    return judge_file_case(case, ans)


def run_file_cases(ctx: Context, cases: Iterable[corpus.FileCase] | None = None) -> list[Outcome]:
    workers = Workers(ctx)
    try:
        return [run_file_case(ctx, workers, c) for c in (cases or corpus.FILE_CASES)]
    finally:
        workers.close()


def run_known_finds(ctx: Context) -> list[Outcome]:
    worker = WorkerClient(ctx, ctx.tiny["ok"], "fuzz-finds")
    available = fuzz.available_formats()
    try:
        return [fuzz.run_known_find(worker, fmt, i, seed) for fmt, i, seed in fuzz.KNOWN_FINDS if fmt in available]
    finally:
        worker.close()


def run_scenario(ctx: Context, s: registry.Scenario) -> Outcome:
    try:
        return s.run(ctx)
    except Exception as exc:  # the suite's own set-up failed: reported as such, never as a pass
        o = registry.outcome(s.name, s.cls)
        return o.note("crashes", f"the case could not run: {type(exc).__name__}: {exc}")


def run_scenarios(ctx: Context, include_slow: bool = True, only: str | None = None) -> list[Outcome]:
    out = []
    for s in registry.SCENARIOS:
        if only and only not in s.name:  # --only: one class's cases, say (e.g. "archive_")
            continue
        if s.slow and not include_slow:
            o = registry.outcome(s.name, s.cls)
            o.skipped = "slow: left out of --quick"
            out.append(o)
            continue
        out.append(run_scenario(ctx, s))
    return out


def run_kills(ctx: Context, kill_count: int, batch_photos: int, statements: int | None) -> list[Outcome]:
    """Random kills during a batch and a first start, and kills after SQL statements of the first
    open (``statements``: how many, spread evenly; None: every one)."""
    total = kills.statement_count(ctx)
    which = None if statements is None else kills.spread(total, statements)
    return [kills.kill_at_statements(ctx, which),
            kills.kills_during_batch(ctx, kill_count, batch_photos),
            kills.kills_during_first_start(ctx, kill_count)]


def run_stations(ctx: Context, n_photos: int, race_rounds: int, backends=("sqlite", "postgres")) -> list[Outcome]:
    out = []
    for backend in backends:
        for state in ("new", "migrated"):
            for n in (2, 3):
                out.append(stations.stations(ctx, backend, state, n, n_photos))
        for n in (2, 3):
            out.append(stations.first_open_race(ctx, n, race_rounds, backend))
    return out


def run_fuzz(ctx: Context, per_format: int, run_seed: int = 0, formats: list[str] | None = None) -> list[Outcome]:
    out = []
    available = fuzz.available_formats()
    for fmt in formats or list(fuzz.FORMATS):
        if fmt not in available:
            o = Outcome(f"fuzz {fmt}", f"fuzz {fmt}")
            o.skipped = f"no {fmt} seeds can be written here (encoder missing)"
            out.append(o)
            continue
        worker = WorkerClient(ctx, ctx.tiny["ok"], f"fuzz-{fmt}")
        try:
            out.append(fuzz.run_fuzz(ctx, worker, fmt, per_format, run_seed))
        finally:
            worker.close()
    return out


def timed(label: str, fn, *args, **kwargs) -> list[Outcome]:
    """Run one part, saying on stderr what it was, how long it took and what went wrong."""
    start = time.monotonic()
    print(f"... {label}", file=sys.stderr, flush=True)
    result = fn(*args, **kwargs)
    result = result if isinstance(result, list) else [result]
    bad = sum(o.bad for o in result)
    print(f"    {label}: {sum(o.cases for o in result if not o.skipped)} cases, {bad} bad, "
          f"{time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    for o in result:
        if o.info:
            print(f"    {o.name}: {o.info}", file=sys.stderr, flush=True)
    return result
