"""``python -m app ratings import|export|mos``: the station's ratings in and out, headless.

- ``import VOTES.csv [--root DIR] [--gold GOLD.csv] [--rater-prefix P]``: stores the file's votes
  as raw votes (layouts: app.core.ratings.votes_file); a vote already stored is not added twice.
- ``export [--csv OUT] [--gold OUT] [--root DIR]``: every raw vote, withdrawn ones included.
- ``mos [--csv OUT] [--raters OUT] [--root DIR]``: per photo MOS, std, n and 95 % CI with and
  without the rejected raters (and the subject model's estimate); per rater the screening
  result with its reasons. Without ``--csv`` a short readable summary is printed.

``-`` (the default for ``--csv``) is standard output. Exit codes: 0 done; 2 a file, layout or
database that cannot be used (nothing stored); 3 a database problem part-way; 130 Ctrl+C. An
import is streamed in transactions of 10,000 votes and is resumable: one stopped part-way keeps
what it stored, ``mos`` and ``export`` warn that it is unfinished, and importing the same file
again adds only the rest (app.core.ratings.import_ledger).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .core.ratings.csv_export import export_gold, export_votes, site_ratings, write_photo_table, write_rater_table
from .core.ratings.csv_import import import_votes
from .core.ratings.votes_file import RatingsFileError
from .core.ratings.import_ledger import unfinished_imports
from .core.ratings.mos import votes_per_photo_text
from .core.store import open_database
from .core.store.faults import StoreError, cannot_open


def add_parser(sub) -> None:
    """Register ``ratings`` and its three commands on the program's subparsers."""
    ratings = sub.add_parser("ratings", help="import, export and summarise raw votes (MOS, rater screening)")
    ratings.add_argument("--db", dest="ratings_db", help="database URL or SQLite file (default: as for the window)")
    commands = ratings.add_subparsers(dest="ratings_command", required=True)
    imp = commands.add_parser("import", help="store the votes of a CSV file (this program's, avrateNG's or P.808's layout)")
    imp.add_argument("votes", type=Path, help="CSV of votes: rater, photo, vote, time (+ session, condition, ...)")
    imp.add_argument("--root", type=Path, help="folder that relative photo paths start from (default: the CSV's folder)")
    imp.add_argument("--gold", type=Path, help="also store gold answers from a CSV: photo, expected, tolerance")
    imp.add_argument("--rater-prefix", default="",
                     help="prefix for the file's rater ids (two avrateNG runs both number their raters from 1)")
    exp = commands.add_parser("export", help="write every raw vote as CSV")
    exp.add_argument("--csv", default="-", help="output file (default: standard output)")
    exp.add_argument("--gold", help="also write the gold answers to this file")
    exp.add_argument("--root", type=Path, help="write photo paths under this folder relative to it")
    mos = commands.add_parser("mos", help="per photo MOS ± CI with and without rejected raters, per rater screening")
    mos.add_argument("--csv", help="write the per-photo table here (- for standard output)")
    mos.add_argument("--raters", help="write the per-rater screening table here (default with --csv FILE: FILE's "
                                      "name with -raters added)")
    mos.add_argument("--root", type=Path, help="write photo paths under this folder relative to it")


def _raters_path(photos: str) -> str:
    p = Path(photos)
    return str(p.with_name(f"{p.stem}-raters{p.suffix or '.csv'}"))


def ratings_command(args: argparse.Namespace, db_url: str) -> int:
    try:
        db = open_database(db_url)
    except Exception as exc:  # a damaged file, a bad URL, an unreachable server, an unwritable folder
        print(f"error: {cannot_open(db_url, exc)}", file=sys.stderr)
        return 2
    try:
        if args.ratings_command == "import":
            result = import_votes(db, args.votes, args.root, args.gold, args.rater_prefix)
            if result.resumed_votes is not None:
                print(f"resuming the import of {args.votes} that stopped part-way: its {result.resumed_votes} "
                      "stored vote(s) are kept and counted as already in the database", file=sys.stderr)
            for line, why in result.skipped:
                print(f"{args.votes}, line {line}: skipped: {why}", file=sys.stderr)
            if result.skipped_rows > len(result.skipped):
                print(f"... and {result.skipped_rows - len(result.skipped)} more skipped rows", file=sys.stderr)
            for photo in result.gold_kept:
                print(f"gold answer for {photo} differs from the stored one: the stored one is kept", file=sys.stderr)
            print(result.text(), file=sys.stderr)
            return 0
        for warning in unfinished_imports(db):  # export and mos: say the votes are not all there
            print(warning, file=sys.stderr)
        if args.ratings_command == "export":
            n = export_votes(db, args.csv, args.root)
            gold = export_gold(db, args.gold, args.root) if args.gold else 0
            where = "" if args.csv == "-" else f" to {args.csv}"
            print(f"{n} vote(s) exported{where}" + (f", {gold} gold answer(s) to {args.gold}" if args.gold else ""),
                  file=sys.stderr)
            return 0
        site = site_ratings(db)
        if args.csv:
            write_photo_table(site, args.csv, args.root)
            raters = args.raters or ("-" if args.csv == "-" else _raters_path(args.csv))
            if raters == "-" and args.csv == "-":
                print(file=sys.stdout)  # the rater table follows the photo table after a blank line
            write_rater_table(site, raters)
            if args.csv != "-":
                print(f"{len(site.all)} photo(s) to {args.csv}, {len(site.screening.raters)} rater(s) to {raters}",
                      file=sys.stderr)
        else:
            if args.raters:
                write_rater_table(site, args.raters)
            print(f"Votes: {len(site.votes)} standing, from {len(site.screening.raters)} rater(s).")
            print(f"All raters: {votes_per_photo_text(site.all)}.")
            print(f"Rejected raters left out: {votes_per_photo_text(site.screened)}.")
            print(site.screening.summary())
            for key in sorted(site.screening.raters):
                print(f"  {key}: {site.screening.raters[key].verdict()}")
        return 0
    except RatingsFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        stored = ("what was stored stands; import the same file again to finish it"
                  if args.ratings_command == "import" else "nothing was stored")
        print(f"error: the {exc}; {stored}", file=sys.stderr)
        return 3
    except OSError as exc:  # an output file that cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
