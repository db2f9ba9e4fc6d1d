"""What a scenario is, where it is registered, and how a run of the real command line is judged.

A scenario is a case that needs the real command line, a database or a measurement. Most are
rows of a table with one runner (``score_case.ScoreCase``, ``dbfaults.PermanentFault``),
registered with ``register_rows``; one that needs its own logic is a function ``(ctx, o) -> None``
registered with ``@scenario(name, cls)``, which notes what went wrong on the Outcome ``o`` it is
handed. Importing a module registers its scenarios (tests/faults/suite.py imports them all).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .common import Context, Outcome

GROUPS = {1: "1 exceptions", 2: "2 identity", 3: "3 first start", 4: "4 db faults", 5: "5 damaged jpeg",
          6: "6 hangs", 7: "7 memory", 8: "8 model trust", 9: "9 tone/exit/suffix", 10: "10 card trust",
          11: "11 external data", 12: "12 secrets", 13: "13 site coherence", 14: "14 ratings files",
          15: "15 archive start-up"}


@dataclass(frozen=True)
class Scenario:
    name: str
    cls: int
    run: Callable[[Context], Outcome]
    slow: bool = False  # left out of --quick and CI when it costs more than a few seconds


SCENARIOS: list[Scenario] = []


def outcome(name: str, cls: int) -> Outcome:
    return Outcome(name, GROUPS[cls])


def scenario(name: str, cls: int, slow: bool = False):
    """Register ``fn(ctx, o)``: it is handed the case's Outcome, so the name is written once."""
    def register(fn: Callable[[Context, Outcome], None]):
        def run(ctx: Context) -> Outcome:
            o = outcome(name, cls)
            fn(ctx, o)
            return o
        SCENARIOS.append(Scenario(name, cls, run, slow))
        return fn
    return register


def register_rows(rows: Iterable, run: Callable) -> None:
    """Register each row of a table of cases (with ``name``, ``cls`` and ``slow``): it is run by
    ``run(ctx, case=row)``, the table's one runner."""
    for row in rows:
        SCENARIOS.append(Scenario(row.name, row.cls, functools.partial(run, case=row), row.slow))


@dataclass(frozen=True)
class Exit:
    """The exit codes a run may end with, and how a failure says what was expected."""

    ok: Callable[[int], bool]
    text: str


EXIT_0 = Exit(lambda rc: rc == 0, "0")
# Non-zero, and not 1 (Python's own code for an uncaught exception).
REFUSAL = Exit(lambda rc: rc not in (0, 1), "a refusal (non-zero, not 1)")


def judge(o: Outcome, run, what: str, exit: Exit | None = None) -> bool:
    """Count a crash / hang, or a wrong exit code (none is wrong when ``exit`` is None); True
    when the run may be judged further."""
    if run.hung:
        o.note("hangs", f"{what}: {run.why()}")
        return False
    if run.crashed:
        o.note("crashes", f"{what}: {run.why()}")
        return False
    if exit is not None and not exit.ok(run.rc):
        o.note("wrong", f"{what}: exit {run.rc}, expected {exit.text}; {run.why()}")
        return False
    return True
