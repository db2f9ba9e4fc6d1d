"""Two models' stored scores of the same photos, compared: are they the same to the last bit, and
what does each store a score? For a model that should score exactly as its base (a graph given a
further output, ``python -m training graft-stages``). Score one folder into two databases first:

    .venv/bin/python -m app --model BASE.onnx --db RUN/base.db score --trust-model FOLDER...
    .venv/bin/python -m app --model NEW.onnx --db RUN/new.db score --trust-model FOLDER...
    .venv/bin/python bench/same_scores.py RUN/base.db RUN/new.db
"""
from __future__ import annotations

import argparse
import sqlite3
import sys

COLUMNS = ("raw_score", "score", "verdict", "opinions", "embedding")


def stored(db: str) -> tuple[dict, dict]:
    """path -> the compared columns of its score, and the bytes stored per score."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        rows = c.execute(f"SELECT i.path, {', '.join('s.' + k for k in COLUMNS)} FROM scores s "
                         "JOIN images i ON i.id = s.image_id WHERE s.status = 'ok'").fetchall()
        size = c.execute("SELECT avg(length(embedding)), avg(length(pooled_stages)) FROM scores "
                         "WHERE status = 'ok'").fetchone()
    return {r[0]: r[1:] for r in rows}, {"embedding": size[0], "pooled stages": size[1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("base")
    ap.add_argument("new")
    args = ap.parse_args()
    (base, base_size), (new, new_size) = stored(args.base), stored(args.new)
    both = sorted(set(base) & set(new))
    print(f"{len(both)} photos scored by both ({len(base)} / {len(new)} in each)\n")
    print("| stored column | photos where it differs |\n|---|---|")
    for i, column in enumerate(COLUMNS):
        print(f"| {column} | {sum(base[p][i] != new[p][i] for p in both)} |")
    print("\n| | bytes a score: embedding (JSON) | pooled stages |\n|---|---|---|")
    for name, size in (("base", base_size), ("new", new_size)):
        print(f"| {name} | {size['embedding'] or 0:.0f} | {size['pooled stages'] or 0:.0f} |")
    return 0 if both and all(base[p] == new[p] for p in both) else 1


if __name__ == "__main__":
    sys.exit(main())
