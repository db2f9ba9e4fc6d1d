"""Archive scoring on Dask, measured: throughput of 1 and 2 worker processes against the
single-process CLI, rows per second into SQLite and PostgreSQL, peak RSS per worker; a fault run
(worker processes SIGKILLed at random points: every photo must end with exactly one row); and a
projection for 1,000,000 photos at 12 MP from the measured per-photo cost.

    .venv/bin/python bench/archive_throughput.py                       # 2,000 photos, ~30 min here
    .venv/bin/python bench/archive_throughput.py --small 100 --large 100 --fault 200   # a quick look

Photos are generated in a temporary folder (half 640x480, half 1920x1080, photo-like JPEGs); the
shipped model scores them; PostgreSQL is a throwaway cluster of this machine's server binaries
(/usr/lib/postgresql/*/bin), or --pg-url. Prints markdown tables; counts are printed with them.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import make_photos  # noqa: E402
from tests.peak_memory import wait_recording_peak  # noqa: E402


def table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def noisy_photos(folder: Path, n: int, width: int, height: int) -> list[Path]:
    """Photo-sized files: a smooth scene with texture and sensor noise (JPEG q92, ~3 bits/px
    less than a camera's, so the file size is stated with the results)."""
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    out = []
    for i in range(n):
        base = (np.sin(xx / (31 + i)) * np.cos(yy / (23 + i)) * 70 + 128)[..., None] * [1.0, 0.92, 0.8]
        img = np.clip(base + rng.normal(0, 14, base.shape), 0, 255).astype(np.uint8)
        path = folder / f"twelve_{i:03d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        out.append(path)
    return out


@contextmanager
def throwaway_postgres(url: str | None):
    """A PostgreSQL server for the run: the given URL, or a temporary cluster (trust auth, a
    Unix socket only), removed afterwards."""
    if url:
        yield lambda name: url
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        yield None
        return
    bindir = os.path.dirname(bins[-1])
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    run_as = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(run_as + [f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust"], check=True,
                   capture_output=True)
    ctl = run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(root / "log"),
                    "-o", f"-p {port} -k {sock} -c listen_addresses=''"]
    subprocess.run(ctl + ["start"], check=True, capture_output=True)
    base = f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"

    def new_database(name: str) -> str:
        from sqlalchemy import create_engine, make_url, text

        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    try:
        yield new_database
    finally:
        subprocess.run(ctl + ["-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def row_counts(url: str) -> tuple[int, int, int]:
    """(images, score rows, images with more than one row for one model)."""
    from sqlalchemy import func, select

    from app.core.store import open_database
    from app.core.store.schema import Image, Score

    db = open_database(url)
    with db.session() as s:
        images = s.scalar(select(func.count()).select_from(Image))
        rows = s.scalar(select(func.count()).select_from(Score))
        dup = s.scalar(select(func.count()).select_from(
            select(Score.image_id).group_by(Score.image_id, Score.model_version_id).having(func.count() > 1).subquery()))
    db.close()
    return images, rows, dup


def cli_run(roots: list[Path], url: str) -> dict:
    """The single-process CLI (`python -m app score`), its own process: wall time, peak RSS."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: nobody reads while it runs
        proc = subprocess.Popen([sys.executable, "-m", "app", "score", *map(str, roots), "--recursive", "--db", url],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        code, peak = wait_recording_peak(proc)
        wall = time.monotonic() - start
        log.seek(0)
        err = log.read().decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"score failed: {err[-500:]}")
    return dict(wall=wall, rss=peak)


def archive_run(roots: list[Path], url: str, workers: int, card: Path, kills: int = 0,
                expected_s: float = 60.0) -> dict:
    """`archive score` in this process as its client, on a LocalCluster of ``workers`` processes.
    With ``kills``, a worker process is SIGKILLed that many times at random points."""
    from app.archive.run import install_plugin, run_chunks, start_client
    from app.core.model.trust import admit_model
    from app.core.store import open_database

    t0 = time.monotonic()
    client, threads = start_client(None, workers)
    started = time.monotonic() - t0
    db = open_database(url)
    mv = admit_model(db, json.loads(card.read_text()), str(card.with_suffix(".onnx")))
    install_plugin(client, db.url, mv, card, threads)
    ready = time.monotonic() - t0
    killed: list[float] = []
    stop = threading.Event()

    def killer() -> None:
        rng = random.Random(7)
        times = sorted(rng.uniform(0.1, 0.8) * expected_s for _ in range(kills))
        begin = time.monotonic()
        for at in times:
            if stop.wait(max(0.0, at - (time.monotonic() - begin))):
                return
            try:
                pids = client.run(os.getpid)
            except Exception:
                continue
            if pids:
                os.kill(rng.choice(sorted(pids.values())), signal.SIGKILL)
                killed.append(round(time.monotonic() - begin, 1))

    thread = threading.Thread(target=killer, daemon=True)
    if kills:
        thread.start()
    summary = run_chunks(client, db, mv, roots, chunk_size=16)
    stop.set()
    if kills:
        thread.join(timeout=5)
    db.close()
    cluster = client.cluster
    client.close()
    cluster.close()
    return dict(summary=summary, started=started, ready=ready, killed=killed)


def _write_rows(url: str, mv: int, n: int, offset: int, out, barrier) -> None:
    from app.core.store import open_database
    from app.core.store.repository import ScoreRecord, active_thresholds, record_score

    db = open_database(url)
    thresholds = active_thresholds(db, mv)  # as a worker does: once per chunk, not per row
    barrier.wait()  # every writer connected and ready: time the writing alone
    start = time.monotonic()
    for i in range(n):
        rec = ScoreRecord(f"/bench/rows/{offset + i:07d}.jpg", "ok", 50.0, [50.0, 50.0, 50.0], 0.1, raw_score=50.0,
                          embedding=[0.0] * 64, content_hash=f"{offset + i:064d}", size_bytes=1, width=1, height=1,
                          source="archive")
        db.run(record_score, db, mv, rec, thresholds)
    out.put(time.monotonic() - start)
    db.close()


def write_ceiling(url: str, card: Path, procs: int, n: int) -> float:
    """Rows per second that ``procs`` processes upsert with record_score alone (no scoring)."""
    import multiprocessing as mp

    from app.core.model.trust import admit_model
    from app.core.store import open_database

    db = open_database(url)
    mv = admit_model(db, json.loads(card.read_text()), str(card.with_suffix(".onnx")))
    db.close()
    ctx = mp.get_context("spawn")
    q, barrier = ctx.Queue(), ctx.Barrier(procs)
    ps = [ctx.Process(target=_write_rows, args=(url, mv, n, k * n, q, barrier)) for k in range(procs)]
    [p.start() for p in ps]
    [p.join() for p in ps]
    return procs * n / max(q.get() for _ in ps)  # they write at the same time


def twelve_mp_cost(folder: Path, n: int) -> dict:
    """Decode + score + store of a 12 MP photo on one worker thread (ONNX Runtime 1 thread)."""
    from app.core.scoring.photo import score_photo
    from app.core.scoring.engine import Engine
    from app.core.model.loader import load_model
    from app.core.paths import default_model_dir
    from app.core.store import open_database
    from app.core.store.repository import record_score

    photos = noisy_photos(folder, n, 4032, 3024)
    model = load_model(default_model_dir(), threads=1)
    engine = Engine(model)
    db = open_database(folder / "twelve.db")
    from app.core.model.trust import admit_model

    mv = admit_model(db, model.card, str(model.onnx_path))
    score_photo(engine, photos[0])  # warm-up
    times = []
    for p in photos:
        t = time.perf_counter()
        rec = score_photo(engine, p, source="archive").record
        db.run(record_score, db, mv, rec)
        times.append(time.perf_counter() - t)
    db.close()
    return dict(seconds=statistics.median(times), mb=statistics.mean(p.stat().st_size for p in photos) / 1e6)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=1000, help="640x480 photos (default %(default)s)")
    ap.add_argument("--large", type=int, default=1000, help="1920x1080 photos (default %(default)s)")
    ap.add_argument("--fault", type=int, default=1000, help="photos of the fault run (640x480; 0: none)")
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--twelve", type=int, default=8, help="12 MP photos timed for the projection")
    ap.add_argument("--rows", type=int, default=1000, help="rows per process for the database write ceiling")
    ap.add_argument("--pg-url", help="an existing PostgreSQL database to use (default: a throwaway cluster)")
    ap.add_argument("--skip-cli", action="store_true")
    ap.add_argument("--pg-one-worker", action="store_true", help="also run 1 worker into PostgreSQL")
    args = ap.parse_args()

    from app.core.paths import default_model_dir

    card = sorted(default_model_dir().glob("*.json"))[0]
    work = Path(tempfile.mkdtemp(prefix="archive-bench-"))
    print(f"# archive_throughput: {args.small} × 640×480 + {args.large} × 1920×1080 photos, model {card.stem}, "
          f"{os.cpu_count()} cores", flush=True)
    t = time.monotonic()
    roots = []
    if args.small:
        (work / "photos" / "small").mkdir(parents=True)
        make_photos(work / "photos" / "small", args.small, 640, 480)
        roots.append(work / "photos" / "small")
    if args.large:
        (work / "photos" / "large").mkdir(parents=True)
        make_photos(work / "photos" / "large", args.large, 1920, 1080)
        roots.append(work / "photos" / "large")
    total = args.small + args.large
    mb = sum(p.stat().st_size for r in roots for p in r.iterdir()) / 1e6
    print(f"generated {total} photos ({mb:.0f} MB) in {time.monotonic() - t:.0f} s", flush=True)

    results = []  # (what, database, wall s, photos/s, rows/s, peak RSS per process)
    with throwaway_postgres(args.pg_url) as new_pg:
        if not args.skip_cli and total:
            url = f"sqlite:///{work / 'cli.db'}"
            r = cli_run(roots, url)
            results.append(["`score` CLI, 1 process (ORT all cores)", "SQLite", f"{r['wall']:.0f}",
                            f"{total / r['wall']:.2f}", f"{total / r['wall']:.2f}", f"{r['rss']:.0f}", "–"])
            print(results[-1], flush=True)
        runs = [(1, "sqlite"), (2, "sqlite")] if total else []
        if new_pg is not None:
            runs += ([(1, "postgresql")] if args.pg_one_worker else []) + [(2, "postgresql")]
        for workers, kind in runs:
            url = f"sqlite:///{work / f'archive{workers}.db'}" if kind == "sqlite" else new_pg(f"archive{workers}")
            r = archive_run(roots, url, workers, card)
            s = r["summary"]
            images, rows, dup = row_counts(url)
            assert rows == total and dup == 0, (rows, dup)
            rss = " / ".join(f"{v:.0f}" for v in s.workers.values())
            results.append([f"`archive score`, {workers} worker process{'es' if workers > 1 else ''}",
                            "SQLite" if kind == "sqlite" else "PostgreSQL", f"{s.wall_seconds:.0f}",
                            f"{(s.scored + s.failed) / s.wall_seconds:.2f}", f"{rows / s.wall_seconds:.2f}", rss,
                            f"{r['ready']:.1f}"])
            print(results[-1], flush=True)
        print()
        print(f"## Throughput ({total} photos: {args.small} at 640×480, {args.large} at 1920×1080; {mb:.0f} MB)\n")
        print(table(["run", "database", "wall (s)", "photos/s", "rows/s written", "peak RSS per process (MB)",
                     "cluster + plugin start (s)"], results))

        ceiling, db_rate = [], {}
        for kind in ("sqlite", "postgresql"):
            if kind == "postgresql" and new_pg is None:
                continue
            for procs in (1, 2):
                url = f"sqlite:///{work / f'rows{procs}.db'}" if kind == "sqlite" else new_pg(f"rows{procs}")
                rate = write_ceiling(url, card, procs, args.rows)
                db_rate[kind] = max(db_rate.get(kind, 0.0), rate)
                ceiling.append(["SQLite" if kind == "sqlite" else "PostgreSQL", procs, f"{rate:.0f}"])
        print(f"\n## Database write rate alone (record_score upserts, {args.rows} rows per process)\n")
        print(table(["database", "writer processes", "rows/s"], ceiling))

        if args.fault:
            folder = work / "photos" / "small"
            fault_roots = [folder] if args.small >= args.fault else None
            if fault_roots is None:
                (work / "fault").mkdir()
                make_photos(work / "fault", args.fault, 640, 480)
                fault_roots = [work / "fault"]
            n = sum(1 for _ in fault_roots[0].iterdir())
            rows_out = []
            for kind in ("sqlite", "postgresql"):
                if kind == "postgresql" and new_pg is None:
                    continue
                url = f"sqlite:///{work / 'fault.db'}" if kind == "sqlite" else new_pg("fault")
                clean = archive_run(fault_roots, f"sqlite:///{work / f'clean-{kind}.db'}" if kind == "sqlite"
                                    else new_pg("clean"), 2, card)["summary"].wall_seconds
                r = archive_run(fault_roots, url, 2, card, kills=args.kills, expected_s=clean)
                s = r["summary"]
                images, rows, dup = row_counts(url)
                rows_out.append(["SQLite" if kind == "sqlite" else "PostgreSQL", n, len(r["killed"]),
                                 ", ".join(map(str, r["killed"])), s.rescheduled, s.skipped, images, rows, dup,
                                 "yes" if images == rows == n and dup == 0 else "**NO**",
                                 f"{clean:.0f}", f"{s.wall_seconds:.0f}"])
                print(rows_out[-1], flush=True)
            print(f"\n## Fault run (2 workers, {n} photos of 640×480, a worker process SIGKILLed {args.kills} times)\n")
            print(table(["database", "photos", "kills", "at (s)", "chunks run again", "photos skipped on a retry",
                         "image rows", "score rows", "photos with 2 rows", "exactly one row each",
                         "wall without kills (s)", "wall with kills (s)"], rows_out))

    if args.twelve:
        c = twelve_mp_cost(work / "twelve", args.twelve)
        print("\n## Projection: 1,000,000 photos at 12 MP\n")
        print(f"Measured: decode + score + store of a 12 MP JPEG on one worker (1 core, ONNX Runtime 1 thread): "
              f"{c['seconds']:.2f} s (median of {args.twelve} generated noisy photos of {c['mb']:.1f} MB each; a "
              f"camera's 12 MP JPEG is typically 3–6 MB).\n")
        per_photo = c["seconds"]
        share_mb = c["mb"]
        rate = db_rate.get("postgresql") or db_rate.get("sqlite") or float("inf")
        database = 1e6 / rate
        rows = []
        for n in (2, 8, 32, 64, 128):
            compute = 1e6 * per_photo / n
            gbe = 1e6 * share_mb / 110  # a 1 Gbit/s share serves ~110 MB/s
            ten = 1e6 * share_mb / 1100
            rows.append([n, f"{compute / 3600:.1f}", f"{gbe / 3600:.1f}", f"{ten / 3600:.1f}", f"{n / per_photo:.0f}",
                         f"{database / 3600:.1f}", f"{max(compute, gbe, database) / 3600:.1f}",
                         f"{max(compute, ten, database) / 3600:.1f}"])
        print(table(["workers (1 core each)", "compute alone (h)", "1 GbE share alone (h)", "10 GbE share alone (h)",
                     "rows/s the workers write", f"database alone at {rate:.0f} rows/s (h)",
                     "projected, 1 GbE (h)", "projected, 10 GbE (h)"], rows))
        print(f"\nAssumptions: every worker a core like this machine's, all busy (the engine keeps them fed); "
              f"files of {share_mb:.1f} MB read once over the share, which serves ~110 MB/s (1 GbE) or ~1.1 GB/s "
              f"(10 GbE) to the workers together (a rerun reads every file again to check its hash); the database "
              f"writes at the rate measured above (one server on this shared 2-core machine, beside its writers: "
              f"a floor, a dedicated server takes several times more); nothing else loads the share or the "
              f"server.")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
