"""What ``ratings import`` costs on a large votes file: wall time, peak RSS and the longest write
transaction, for a generated file of N rows (this program's layout, 2,000 raters on 5,000 photos, each rater voting on a photo once,
that are not on disk) imported into a fresh SQLite database.

    .venv/bin/python bench/ratings_import.py [N=1000000] [DIR]

Each import runs in its own child process (``--child``), so its peak RSS (ru_maxrss) is the
import's own; the child times every transaction with SQLAlchemy's begin/commit/rollback events."""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATERS, PHOTOS = 2000, 5000


def write_votes(path: Path, rows: int) -> None:
    """``rows`` distinct votes, one a second from 2024-01-01 on."""
    start = 1704067200
    with open(path, "w", encoding="utf-8") as f:
        f.write("rater,photo,vote,time,session,response_ms\n")
        for i in range(rows):
            f.write(f"r{i % RATERS},photos/p{i // RATERS % PHOTOS:05d}.jpg,{1 + i % 5},{start + i},s{i % RATERS // 100},700\n")


def child(csv_path: str, db_path: str) -> None:
    from sqlalchemy import event

    from app.core.ratings.csv_import import import_votes
    from app.core.store import open_database

    db = open_database(db_path)
    longest, began = [0.0], [None]

    @event.listens_for(db.engine, "begin")
    def _begin(conn):
        began[0] = time.perf_counter()

    def _end(conn):
        if began[0] is not None:
            longest[0] = max(longest[0], time.perf_counter() - began[0])
            began[0] = None

    event.listen(db.engine, "commit", _end)
    event.listen(db.engine, "rollback", _end)
    start = time.perf_counter()
    result = import_votes(db, csv_path)
    seconds = time.perf_counter() - start
    db.close()
    print(json.dumps({"added": result.added, "seconds": seconds, "longest_transaction": longest[0],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return 0
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, db_path = folder / f"votes-{rows}.csv", folder / f"votes-{rows}.db"
    if not csv_path.exists():
        write_votes(csv_path, rows)
    db_path.unlink(missing_ok=True)
    out = subprocess.run([sys.executable, __file__, "--child", str(csv_path), str(db_path)],
                         check=True, capture_output=True, text=True).stdout
    m = json.loads(out.strip().splitlines()[-1])
    assert m["added"] == rows, m
    print("| rows | seconds | peak RSS (MB) | longest transaction (s) |")
    print("|---|---|---|---|")
    print(f"| {rows:,} | {m['seconds']:.1f} | {m['peak_rss_mb']:.0f} | {m['longest_transaction']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
