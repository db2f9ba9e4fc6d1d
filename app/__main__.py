"""``python -m app`` starts the window; ``python -m app score PATH...`` scores headless."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .core.paths import default_database, default_model_dir
from .core.store.urls import DB_URL_ENV, password_on_command_line_warning


def has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


HEADLESS_HELP = """No display found, so the window cannot open.
  Score photos without a window:   ./run.sh score PHOTO_OR_FOLDER ...
  Or run the window off-screen:     QT_QPA_PLATFORM=offscreen ./run.sh
  Or on a virtual screen:           xvfb-run ./run.sh"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="MobileIQA Inspector")
    parser.add_argument("--model", type=Path, default=default_model_dir(), help="model folder, .onnx or .json card")
    parser.add_argument("--db", help=f"database URL or SQLite file (default: ${DB_URL_ENV}, else {default_database()}); "
                        "a PostgreSQL password belongs in ~/.pgpass, not on the command line")
    parser.add_argument("--self-test", action="store_true",
                        help="score the bundled sample photo into a temporary database and exit (0 = working)")
    sub = parser.add_subparsers(dest="command")
    score = sub.add_parser("score", help="score photos headless and print the results")
    score.add_argument("paths", nargs="+", type=Path)
    score.add_argument("--recursive", action="store_true", help="descend into sub-folders")
    score.add_argument("--db", dest="score_db", help="database URL or SQLite file (default: as for the window)")
    score.add_argument("--csv", type=Path, help="also write every stored result of this model to a CSV file")
    score.add_argument("--provider", help="execution provider: auto (default), cpu, cuda")
    score.add_argument("--report", type=Path, help="also write an HTML batch report (counts, histogram, worst photos)")
    score.add_argument("--trust-model", action="store_true",
                       help="approve running a model this station has not run before (recorded with your user name)")
    from .ratings_cli import add_parser as add_ratings_parser

    add_ratings_parser(sub)
    from .archive.cli import add_parser as add_archive_parser

    add_archive_parser(sub)
    args = parser.parse_args(argv)
    for given in (args.db, getattr(args, "score_db", None), getattr(args, "ratings_db", None),
                  getattr(args, "archive_db", None)):
        if warning := password_on_command_line_warning(given):
            print(warning, file=sys.stderr)
            break
    args.db = args.db or os.environ.get(DB_URL_ENV) or str(default_database())  # shared stations: the site's URL

    if args.self_test:
        from .selftest import self_test

        return self_test(args.model)
    if args.command == "score":
        from .cli import score_command

        db = args.score_db or args.db
        return score_command(args.paths, args.model, db, args.csv, args.recursive, args.report, args.provider,
                             args.trust_model)
    if args.command == "ratings":
        from .ratings_cli import ratings_command

        return ratings_command(args, args.ratings_db or args.db)
    if args.command == "archive":
        from .archive.cli import main as archive_main

        return archive_main(args)
    if not has_display():
        print(HEADLESS_HELP, file=sys.stderr)
        return 2
    from .ui.launch import run_gui

    return run_gui(args.model, args.db)


def run() -> int:
    """``main`` for a terminal: Ctrl+C anywhere ends with one line and the shell's code 130, never
    a traceback (every stored row is its own transaction, so what was stored stands)."""
    try:
        return main()
    except KeyboardInterrupt:
        print("\ninterrupted: what was stored is kept; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    code = run()
    # A Ctrl+C in the last moment (after ``run`` answered, while Dask's exit hooks run) would end
    # the process by SIGINT (-2) with a traceback: the answer is given, so it stands.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
