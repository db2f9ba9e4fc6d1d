"""The product's fault suite: inject every fault class the station has met and print what broke.

    python -m tests.faults                 # the full run (10,000 mutants per format, 20 kills)
    python -m tests.faults --quick         # a few minutes: the corpus, 300 mutants, 3 kills
    python -m tests.faults --mutant JPEG:4711   # rebuild one mutant from a report line

It drives the app as a user does (``python -m app score``) and its core in a worker process
(load_rgb, score_photo), over: the corpus of odd and damaged files of every class (made by code
in tests/faults/corpus.py), database faults mid-batch, a mutation fuzz of every supported format,
kill -9 at random moments of a batch and of the first start and after every SQL statement of the
first open, and 2 and 3 concurrent stations on new and migrated SQLite and PostgreSQL databases.

It prints one row per fault class / part and a total: cases tried, crashes, hangs, wrong results,
lost rows, duplicate rows; then every failing case with what to look at. The exit status is 1
when any count is not zero. ``--app-root`` points it at another tree (e.g. an older commit
unpacked with ``git archive``) to see what that tree fails.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from tests.faults import common, suite  # noqa: E402


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="reduced counts, slow cases left out (a few minutes)")
    p.add_argument("--fuzz-per-format", type=int, help="mutants per format (default 10000; --quick 300)")
    p.add_argument("--kills", type=int, help="random kill -9 during a batch, and during a first start (default 20; --quick 3)")
    p.add_argument("--seed", type=int, default=0, help="fuzz run seed (mutant i of a format is a function of it)")
    p.add_argument("--parts", default="corpus,scenarios,kills,stations,fuzz",
                   help="comma-separated subset of: corpus, scenarios, kills, stations, fuzz")
    p.add_argument("--only", help="with the scenarios part: only the cases whose name holds this (e.g. archive_)")
    p.add_argument("--app-root", type=Path, help="the tree whose app is tested (default: this checkout)")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (its path is printed)")
    p.add_argument("--json", type=Path, help="also write every case's outcome to this JSON file")
    p.add_argument("--mutant", help="FMT:INDEX[:SEED]: write that mutant here and show what the app makes of it")
    return p.parse_args(argv)


def show_mutant(ctx: common.Context, spec: str) -> int:
    from tests.faults import fuzz

    fmt, index, *seed = spec.split(":")
    data = fuzz.mutant(fmt, int(index), int(seed[0]) if seed else 0)
    out = Path(f"mutant_{fmt}_{index}{fuzz.FORMATS[fmt]}")
    out.write_bytes(data)
    worker = common.WorkerClient(ctx, ctx.tiny["ok"], "mutant")
    try:
        ans = worker.ask({"op": "file", "path_hex": str(out.resolve()).encode().hex()}, 60)
    finally:
        worker.close()
    print(f"wrote {out} ({len(data)} bytes)")
    print(json.dumps(ans, indent=1))
    return 0 if fuzz.judge_mutant(ans) is None else 1


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    per_format = args.fuzz_per_format if args.fuzz_per_format is not None else (300 if args.quick else 10_000)
    kill_count = args.kills if args.kills is not None else (3 if args.quick else 20)
    parts = set(args.parts.split(","))
    root = Path(tempfile.mkdtemp(prefix="fault-suite-"))
    ctx = suite.make_context(root, args.quick, args.app_root.resolve() if args.app_root else None)
    start = time.monotonic()
    outcomes: list[common.Outcome] = []
    try:
        if args.mutant:
            return show_mutant(ctx, args.mutant)
        if "corpus" in parts:
            outcomes += suite.timed("corpus files through load_rgb / score_photo", suite.run_file_cases, ctx)
            outcomes += suite.timed("mutants that broke the app before", suite.run_known_finds, ctx)
        if "scenarios" in parts:
            outcomes += suite.timed("command-line and database cases", suite.run_scenarios, ctx, not args.quick,
                                    args.only)
        if "kills" in parts:
            outcomes += suite.timed(f"kill -9 (x{kill_count} batch, x{kill_count} first start, SQL statements)",
                                    suite.run_kills, ctx, kill_count, 60 if args.quick else 300,
                                    8 if args.quick else None)
        if "stations" in parts:
            outcomes += suite.timed("2 and 3 stations", suite.run_stations, ctx, 20 if args.quick else 60,
                                    2 if args.quick else 5)
        if "fuzz" in parts:
            outcomes += suite.timed(f"fuzz, {per_format} mutants per format", suite.run_fuzz, ctx, per_format, args.seed)
    finally:
        ctx.close()
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"fault suite ({'quick' if args.quick else 'full'}; app {ctx.app_root}; {time.monotonic() - start:.0f} s)")
    print(common.table(outcomes))
    listed = common.failures(outcomes)
    if listed:
        print()
        print(listed)
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1, default=str))
    return 1 if any(o.bad for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
