"""``python -m app archive score ROOT... | status``: the archive commands.

Dask is imported only here, when a run starts: the window and ``score`` never need it.

Exit codes (as for ``score``): 0 every photo under the roots was handled (bad photos each get
their status); 2 a root that does not exist, or a model, database or cluster that cannot be
opened (nothing is scored); 3 a database problem or a failing task stopped the run (what was
stored is kept; a rerun resumes); 4 the model failed on every photo it was given; 130
interrupted (Ctrl+C; a rerun resumes).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..core.model.contract import ModelError
from ..core.model.trust import UntrustedModel, admit_model, current_user
from ..core.imageio.file_names import printable_path
from ..core.store import open_database
from ..core.store.faults import StoreError, cannot_open
from ..core.store.upgrade import after_upgrade
from ..core.store.urls import DB_URL_ENV, hide_password

NEEDS_DASK = ("error: archive scoring runs on Dask distributed, which is not installed here: "
              "pip install -r requirements/archive.txt (or: pip install 'dask[distributed]')")


def database_url(db: str | None, fallback: str) -> str:
    """``--db``, else $MOBILEIQA_DB_URL (a URL with a password belongs there or in ~/.pgpass,
    never on a command line, which every user of the PC can read), else the station's default."""
    return db or os.environ.get(DB_URL_ENV) or fallback  # (app.__main__ warns of a password in --db)


def _open(db_url: str):
    try:
        return open_database(db_url)
    except Exception as exc:  # a damaged file, a bad URL, an unreachable server
        print(f"error: {cannot_open(db_url, exc)}", file=sys.stderr)
    return None


def score_command(roots: list[Path], model_path: Path, db_url: str, cluster: str | None = None,
                  workers: int | None = None, chunk_size: int = 16, trust_model: bool = False,
                  provider: str | None = None, ort_threads: int | None = None, tls: tuple = (None, None, None),
                  dashboard: str | None = None, worker_memory: str | None = None) -> int:
    missing = [r for r in roots if not os.path.lexists(r)]
    if missing:
        for r in missing:
            print(f"error: no such file or folder: {printable_path(r)}", file=sys.stderr)
        return 2
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        print(NEEDS_DASK, file=sys.stderr)
        return 2
    from .interrupt import ctrl_c_held, ctrl_c_ignored

    if cluster and worker_memory:
        print("error: --worker-memory sets the local cluster's workers; a cluster's own workers take theirs from "
              "`dask worker --memory-limit`", file=sys.stderr)
        return 2
    # ONNX Runtime starts a thread as it is imported: started while Ctrl+C is held, that thread never
    # takes (and drops) one meant for this command (see interrupt.py).
    with ctrl_c_held():
        from ..core.model.loader import load_model
        from . import run

        try:  # verified here once, so a bad model is one line before any worker starts
            model = load_model(model_path, threads=1, provider=provider)
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    card, onnx_path = model.card, model.onnx_path
    del model
    security = None
    if cluster:  # decided before anything is opened or sent
        try:
            security = run.cluster_security(cluster, *tls, db_url=db_url)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if security is None:
            print(f"warning: {cluster} is neither encrypted nor authenticated: anyone who reaches it can run code "
                  "on its workers; use a tls:// scheduler with certificates (see the README)", file=sys.stderr)
    db = _open(db_url)
    if db is None:
        return 2
    client = None
    try:
        approver = f"{current_user()} (--trust-model)" if trust_model else None
        try:
            mv = admit_model(db, card, str(onnx_path), approver)
        except UntrustedModel as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        notice = after_upgrade(db, mv, card, str(onnx_path))  # what an upgrade changed, as the window says it
        if notice:
            print(notice, file=sys.stderr)
        if cluster and db.engine.dialect.name == "sqlite":
            print("warning: an SQLite database with a cluster of several PCs: every worker must reach the same "
                  "file, and SQLite on a network share is not safe; use PostgreSQL (see the README)", file=sys.stderr)
        try:
            with ctrl_c_held():  # a Ctrl+C during the start is raised once ``client`` is there to be closed
                client, local_threads = run.start_client(cluster, workers, security=security, dashboard=dashboard,
                                                         memory_limit=worker_memory)
        except Exception as exc:  # an unreachable scheduler, no worker in time
            print(f"error: cannot start or reach the Dask cluster {cluster or '(local)'}: {exc}", file=sys.stderr)
            return 2
        try:
            run.check_environment(client)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        try:
            run.install_plugin(client, db.url, mv, onnx_path.with_suffix(".json"), ort_threads or local_threads or 1,
                               provider)
        except Exception as exc:
            print(f"error: the workers could not load the model or open the database: {exc}", file=sys.stderr)
            return 2
        n = len(client.scheduler_info().get("workers", {}))
        dash = run.dashboard_address(client, local=not cluster)
        print(f"archive: {n} workers ({cluster or 'local cluster'}), model {card['name']} v{card['version']}, "
              f"database {hide_password(db.url)}", file=sys.stderr)
        print(f"Dask dashboard: {dash}" if dash else "Dask dashboard: not served (install bokeh for one)", file=sys.stderr)
        summary = run.run_chunks(client, db, mv, roots, chunk_size, progress=run.ConsoleProgress())
        print(summary_text(summary), file=sys.stderr)
        if summary.interrupted:
            print("interrupted: what was stored is kept; run the same command again to resume", file=sys.stderr)
            return 130
        if summary.stopped:
            print(f"error: {summary.stopped}; {summary.stored} photos stored in this run are kept; "
                  "run the same command again to resume", file=sys.stderr)
            return 3
        attempted = summary.scored + summary.failed
        if attempted and summary.model_errors == attempted:
            print(f"error: the model failed on every photo ({attempted})", file=sys.stderr)
            return 4
        return 0
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:  # before the first chunk (run_chunks answers one during the run itself)
        print("interrupted: what was stored is kept; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        with ctrl_c_ignored():
            if client is not None:
                run.close_client(client, local=not cluster)
            db.close()


def summary_text(s) -> str:
    failed = ""
    if s.failed or s.worker_crashes:
        kinds = dict(s.statuses)
        if s.worker_crashes:
            kinds["worker died"] = s.worker_crashes
        failed = " (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"
    rate = (s.scored + s.failed) / s.wall_seconds if s.wall_seconds else 0.0
    rss = ", ".join(f"{mb:.0f}" for mb in s.workers.values())
    lines = [f"{s.scored} scored, {s.failed + s.worker_crashes} failed{failed}, {s.skipped} already in the database "
             f"and unchanged, in {s.wall_seconds:.0f} s ({rate:.2f} photos/s scored)"]
    lines.append(f"{s.chunks} chunks; {s.rescheduled} run again after their worker died; {s.split} split; "
                 f"worker processes' peak RSS (MB): {rss or '-'}")
    if s.walk.ignored:
        lines.append(f"{s.walk.ignored} other files left out (not photos by name)")
    if s.walk.unreadable:
        lines.append("folders that could not be read: " + "; ".join(s.walk.unreadable))
    return "\n".join(lines)


def status_command(db_url: str) -> int:
    from .status import archive_status, format_status

    db = _open(db_url)
    if db is None:
        return 2
    try:
        print(format_status(db.run(archive_status, db), hide_password(db.url)))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    finally:
        db.close()
    return 0


def add_parser(sub) -> None:
    """``archive score`` and ``archive status`` under ``python -m app``."""
    archive = sub.add_parser("archive", help="score a whole archive on Dask workers; report where it stands")
    commands = archive.add_subparsers(dest="archive_command", required=True)
    score = commands.add_parser("score", help="score every photo under the roots (resumable: a rerun skips what is "
                                "scored and unchanged)")
    score.add_argument("roots", nargs="+", type=Path)
    score.add_argument("--db", dest="archive_db", help=f"database URL or SQLite file (default: ${DB_URL_ENV}, else "
                       "the window's); keep a password out of it: ~/.pgpass or the environment variable")
    score.add_argument("--cluster", help="a running Dask scheduler's address (tls://host:8786, with the --tls-* "
                       "files); default: a local cluster on this PC, TLS with certificates made for the run")
    score.add_argument("--tls-ca-file", help="with a tls:// --cluster: the site's CA certificate (PEM)")
    score.add_argument("--tls-cert", help="with a tls:// --cluster: this PC's client certificate (PEM)")
    score.add_argument("--tls-key", help="with a tls:// --cluster: this PC's private key (PEM; keep it 0600)")
    score.add_argument("--dashboard-address", help="where the local cluster's Dask dashboard listens (default: "
                       "127.0.0.1 on a free port; e.g. 0.0.0.0:8787 to show it to other PCs)")
    score.add_argument("--workers", type=int, help="local worker processes (default: one per core); with --cluster: "
                       "wait for this many workers before starting")
    score.add_argument("--worker-memory", help="the memory each local worker may use, e.g. 2GB (default: this PC's "
                       "memory shared out); a photo that needs more is stored as too large")
    score.add_argument("--chunk", type=int, default=16, help="photos per task (default: %(default)s)")
    score.add_argument("--model", dest="archive_model", type=Path, help="model folder, .onnx or card (default: as for "
                       "the window)")
    score.add_argument("--provider", help="execution provider on the workers: auto (default), cpu, cuda")
    score.add_argument("--ort-threads", type=int, help="ONNX Runtime threads per worker (default: the local cores "
                       "shared out; 1 on a cluster, where a worker's --nthreads sets the parallelism)")
    score.add_argument("--trust-model", action="store_true",
                       help="approve running a model this station has not run before (recorded with your user name)")
    status = commands.add_parser("status", help="where the scoring stands, from the database alone")
    status.add_argument("--db", dest="archive_db", help=f"database URL or SQLite file (default: ${DB_URL_ENV}, else "
                        "the window's)")


def main(args) -> int:
    db_url = database_url(args.archive_db, str(args.db))
    if args.archive_command == "status":
        return status_command(db_url)
    return score_command(args.roots, args.archive_model or args.model, db_url, args.cluster, args.workers,
                         args.chunk, args.trust_model, args.provider, args.ort_threads,
                         (args.tls_ca_file, args.tls_cert, args.tls_key), args.dashboard_address,
                         args.worker_memory)
