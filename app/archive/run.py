"""Run an archive through Dask distributed: chunks of paths from the streamed walk, a bounded
number in flight (``as_completed`` + backpressure), progress, and what to do when a worker dies.

The engine does the scheduling, the retries after a lost worker and the restarts (each worker has
a nanny); this module only feeds it. Resumable by construction: every chunk skips what this model
scored and is unchanged, so a rerun, or a chunk run again after its worker died, redoes only what
is missing. A chunk whose workers keep dying is split in halves until the photo that kills them is
alone, and that photo is tried once more with nothing else running (a dying worker also condemns
the chunks merely queued on it): one that kills its worker then is stored with that reason, like
any photo that fails, and the run goes on.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from distributed import Client, KilledWorker, LocalCluster, as_completed, wait

from ..core.store.database import Database
from ..core.store.faults import StoreError
from ..core.store.repository import stored_since
from ..core.store.schema import utcnow
from .plugin import (
    PLUGIN_NAME,
    ChunkResult,
    ScoringPlugin,
    app_version,
    model_files,
    record_worker_crash,
    score_chunk,
    storable_keys,
)
from .walk import WalkCounts, chunked, count_photos, walk_photos

@dataclass
class RunSummary:
    found: int = 0  # photos the walk has handed out so far
    total: int | None = None  # every photo under the roots, once the counting walk is done
    scored: int = 0
    failed: int = 0
    skipped: int = 0  # scored before and unchanged
    statuses: dict[str, int] = field(default_factory=dict)
    model_errors: int = 0
    chunks: int = 0
    rescheduled: int = 0  # chunk runs the engine started again after their worker died
    split: int = 0  # chunks split after killing workers repeatedly
    worker_crashes: int = 0  # photos stored as having killed their worker each time
    stored: int = 0  # photos whose row this run wrote: what "stored in this run" says
    workers: dict[str, float] = field(default_factory=dict)  # worker pid -> peak RSS (MB)
    busy_seconds: float = 0.0  # sum of chunk wall times on the workers
    wall_seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (a database problem, a failed task)
    interrupted: bool = False
    walk: WalkCounts = field(default_factory=WalkCounts)  # what the walk left out (other files, unreadable folders)

    @property
    def done(self) -> int:
        return self.scored + self.failed + self.skipped + self.worker_crashes

    def add(self, r: ChunkResult) -> None:
        self.scored += r.scored
        self.failed += r.failed
        self.skipped += r.skipped
        self.model_errors += r.model_errors
        self.stored += r.stored
        for k, n in r.statuses.items():
            self.statuses[k] = self.statuses.get(k, 0) + n
        self.workers[f"{r.worker} pid {r.pid}"] = max(self.workers.get(f"{r.worker} pid {r.pid}", 0.0), r.peak_rss_mb)
        self.busy_seconds += r.seconds


class Rate:
    """Photos per second over the last ``window`` seconds, and the time left at that rate."""

    def __init__(self, window: float = 60.0):
        self.window, self.samples = window, deque()

    def add(self, t: float, done: int) -> None:
        self.samples.append((t, done))
        while len(self.samples) > 2 and self.samples[0][0] < t - self.window:
            self.samples.popleft()

    def per_second(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, d0), (t1, d1) = self.samples[0], self.samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def progress_line(s: RunSummary, rate: float, elapsed: float) -> str:
    total = f"{s.total}" if s.total is not None else f"≥{max(s.found, s.done)} (counting)"
    eta = ""
    if s.total is not None and rate > 0:
        eta = f", ETA {_duration(max(0, s.total - s.done) / rate)}"
    failed = f", {s.failed + s.worker_crashes} failed" if s.failed + s.worker_crashes else ""
    skipped = f", {s.skipped} unchanged" if s.skipped else ""
    return f"{s.done}/{total} photos{skipped}{failed}, {rate:.2f} photos/s{eta}, {_duration(elapsed)} elapsed"


class ConsoleProgress:
    """One line on stderr: rewritten in place on a terminal, a new line every ``every`` seconds
    otherwise (a log file stays readable)."""

    def __init__(self, stream=None, every: float | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every if every is not None else (1.0 if self.tty else 15.0)
        self._last = 0.0

    def __call__(self, s: RunSummary, rate: float, elapsed: float, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < self.every:
            return
        self._last = now
        line = progress_line(s, rate, elapsed)
        if self.tty:
            print(f"\r{line}\033[K", end="\n" if final else "", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)


START_TRIES = 3  # a local cluster whose worker process died as it started is started again
# Dask's SpecCluster closes, for good, a worker that has not come back this long after it was lost
# (15 s by default: meant for a job-queue worker that is gone). A local worker's nanny brings its
# process back itself; one killed again and again (a photo past its memory limit) was closed for
# good that way, until no worker was left and the run hung.
LOST_WORKER_TIMEOUT = "3650 days"


def start_client(cluster: str | None, workers: int | None, quiet: bool = True, security=None,
                 dashboard: str | None = None, memory_limit: str | None = None) -> tuple[Client, int | None]:
    """A client of the scheduler at ``cluster`` (``security``: its TLS settings), or of a
    LocalCluster of ``workers`` processes (default: one per core), one thread each, each allowed
    ``memory_limit`` (Dask's syntax, e.g. "2GB"; default: Dask's share of this PC's memory).
    Returns (client, ONNX Runtime threads per worker: the cores shared out on a LocalCluster, None
    for a cluster we did not start).

    A Dask scheduler runs whatever its clients send, as its workers' user, and the plugin carries
    the database URL: so the local cluster speaks TLS with certificates made for this run alone
    (no other process, not even another local user's, can join or submit), listens on 127.0.0.1,
    and serves its dashboard on 127.0.0.1 unless ``dashboard`` names another address."""
    import dask
    from distributed.security import Security

    from .interrupt import IgnoreCtrlC, ctrl_c_held

    if cluster:
        client = Client(cluster, timeout="30s", security=security)
        if workers:
            client.wait_for_workers(workers, timeout=600)
        return client, None
    n = workers or os.cpu_count() or 1
    dask.config.set({"distributed.deploy.lost-worker-timeout": LOST_WORKER_TIMEOUT})  # read when a worker is lost
    for attempt in range(START_TRIES):
        run_security = Security.temporary()
        try:
            # A worker killed in a chunk is replaced by its nanny and the chunk runs elsewhere; past
            # this many deaths in one chunk the engine gives up on it and run_chunks splits it instead.
            with ctrl_c_held(), dask.config.set({"distributed.scheduler.allowed-failures": 3}):
                local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     security=run_security, memory_limit=memory_limit or "auto",
                                     dashboard_address=(dashboard or "127.0.0.1:0") if _has_dashboard() else None,
                                     silence_logs=logging.ERROR if quiet else logging.WARNING)
                client = Client(local, security=run_security)
            break
        except Exception:  # a worker process that died before it reached its nanny fails the whole start
            if attempt == START_TRIES - 1:
                raise
    try:
        client.register_plugin(IgnoreCtrlC(), name=IgnoreCtrlC.name)
    except OSError:  # a worker lost meanwhile: the ones spawned by the start ignore Ctrl+C already
        pass
    return client, max(1, (os.cpu_count() or 1) // n)


def _quiet_logs() -> None:
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def close_client(client: Client, local: bool) -> None:
    """Close the client, and the cluster when it is the run's own. A local cluster's processes
    go quiet first: a worker taken down mid-heartbeat, or after a Ctrl+C cut a call short, logs
    Dask's tracebacks, and the command has already said what happened, in its own words."""
    cluster = client.cluster
    if local:
        _quiet_logs()  # the scheduler and nannies, in this process
        try:
            client.run(_quiet_logs, on_error="ignore")
        except Exception:  # a worker or the scheduler already gone: nothing of theirs to quiet
            pass
    client.close()
    if cluster is not None and local:
        cluster.close()


def cluster_security(cluster: str, ca_file: str | None, cert: str | None, key: str | None, db_url: str):
    """TLS settings for a cluster of several PCs, or ValueError saying why it cannot be used.

    ``tls://`` needs the site's CA and this client's certificate and key (each PC's scheduler and
    workers are started with theirs: see the README). A plain ``tcp://`` cluster lets anyone who
    reaches it run code on the workers and read what they are sent: it is refused when the
    database URL holds a password, and otherwise used with a warning (returns None)."""
    from distributed.security import Security

    from ..core.store.urls import has_password

    if cluster.startswith("tls://"):
        missing = [flag for flag, value in (("--tls-ca-file", ca_file), ("--tls-cert", cert), ("--tls-key", key))
                   if not value]
        if missing:
            raise ValueError(f"a tls:// cluster needs {', '.join(missing)} (the site's CA, this PC's certificate and key)")
        for path in (ca_file, cert, key):
            if not Path(path).is_file():
                raise ValueError(f"no such certificate or key file: {path}")
        return Security(tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    if has_password(db_url):
        raise ValueError(f"refusing to send a database password to an unencrypted cluster ({cluster}): anyone who "
                         "reaches its scheduler could read it; use a tls:// scheduler with certificates (see the README)")
    return None


def _has_dashboard() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dashboard_address(client: Client, local: bool) -> str | None:
    """The Dask dashboard's address when the scheduler serves one (it needs bokeh: a scheduler
    without it still answers on that port, but has no pages)."""
    try:
        if "dashboard" not in client.scheduler_info().get("services", {}) or (local and not _has_dashboard()):
            return None
        return client.dashboard_link
    except Exception:
        return None


def check_environment(client: Client) -> None:
    """ValueError, in one line, when the scheduler or a worker cannot import the app, or runs
    another version of it: Dask's own word for that comes at the first chunk ("Error during
    deserialization of the task graph ... different environments"), after the run has started."""
    from .. import __version__

    where = "with the app's environment (scripts/bootstrap.sh archive) and the app's folder on PYTHONPATH " \
            "(see docs/administration.md)"
    address = client.scheduler.address if client.scheduler else "?"
    try:
        theirs = {"the Dask scheduler": client.run_on_scheduler(app_version)}
    except Exception as exc:
        raise ValueError(f"the Dask scheduler at {address} cannot import the app ({_short(exc)}): start it {where}") \
            from None
    for worker, answer in client.run(app_version, on_error="return").items():
        if isinstance(answer, OSError):  # lost as it answered (CommClosedError): its nanny brings it back
            continue
        if isinstance(answer, BaseException):
            raise ValueError(f"the Dask worker {worker} cannot import the app ({_short(answer)}): start every worker "
                             f"{where}")
        theirs[f"the Dask worker {worker}"] = answer
    other = {who: v for who, v in theirs.items() if v != __version__}
    if other:
        who, version = next(iter(other.items()))
        raise ValueError(f"{who} runs the app version {version}, this PC {__version__}: install the same version "
                         "on every PC of the cluster")


def _short(exc: BaseException) -> str:
    """An exception in a few words (Dask wraps some in a paragraph of advice)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


PLUGIN_TRIES = 5  # the model's load is sent again when a worker died while it was being sent


def install_plugin(client: Client, db_url: str, model_version_id: int, card_path: Path,
                   threads: int | None, provider: str | None = None) -> None:
    """Every worker, present and future (a nanny's restart included), loads the model once.

    The scheduler keeps the plugin before it sends it to the workers, so a worker that dies
    meanwhile gets it when its nanny has brought it back; but the sending fails ("Stream is
    closed"), and is done again once the scheduler has let the dead worker go."""
    import json

    card = json.loads(card_path.read_text(encoding="utf-8"))
    plugin = ScoringPlugin(db_url, model_version_id, card["sha256"], card_path.name, model_files(card_path),
                           threads, provider)
    for attempt in range(PLUGIN_TRIES):
        try:
            client.register_plugin(plugin, name=PLUGIN_NAME)
            return
        except OSError:  # CommClosedError: a worker, or the connection to it, lost while it was sent
            if attempt == PLUGIN_TRIES - 1:
                raise
            time.sleep(1.0 + attempt)


def rescheduled_chunks(client: Client, key_prefix: str) -> int:
    """Chunk runs the scheduler started again because their worker died (from its events)."""
    try:
        events = client.get_events()
    except Exception:
        return 0
    count = 0
    for topic_events in events.values():
        for _, msg in topic_events:
            if isinstance(msg, dict) and msg.get("action") == "remove-worker" and not msg.get("expected"):
                count += sum(1 for k in msg.get("processing-tasks", ()) if str(k).startswith(key_prefix))
    return count


def memory_kills(client: Client) -> int:
    """How many times the nannies have killed their worker for passing its memory limit."""
    try:
        return len(client.get_events("worker-restart-memory"))
    except Exception:
        return 0


DRAIN_S = 90.0  # a stopped run waits this long for the chunks still running (each stops at its own error)


def _drain(client: Client, db: Database, model_version_id: int, in_flight: dict, since, summary: RunSummary) -> None:
    """After a stop: let the chunks already running end, rather than cancel them mid-photo, so
    nothing of the run is still storing once it says what it kept, and count what they stored. A
    chunk that does not answer in DRAIN_S (or that failed) is cancelled, and what it stored is read
    from the database."""
    futures = [f for f, _, _ in in_flight.values()]
    wait(futures, timeout=DRAIN_S)
    for key, (future, chunk, _) in list(in_flight.items()):
        if future.status == "finished":
            summary.add(future.result())
            del in_flight[key]
    if in_flight:
        client.cancel([f for f, _, _ in in_flight.values()], force=True)
        summary.stored += _stored_of(db, model_version_id, [p for _, chunk, _ in in_flight.values() for p in chunk],
                                     since)
        in_flight.clear()


def _stored_of(db: Database, model_version_id: int, paths: list[str], since) -> int:
    """How many of ``paths`` a chunk that gave no answer stored, read from the database."""
    try:
        return db.run(stored_since, db, model_version_id, storable_keys(paths), since)
    except StoreError:  # the database that stopped the run cannot say: the count stays a lower bound
        return 0


def run_chunks(client: Client, db: Database, model_version_id: int, roots: Iterable[str | os.PathLike],
               chunk_size: int = 16, max_in_flight: int | None = None,
               progress: Callable[..., None] | None = None, cancel: threading.Event | None = None) -> RunSummary:
    """Score every photo under ``roots`` on the client's workers (the plugin must be installed)."""
    roots = [os.fspath(r) for r in roots]
    summary, rate, start = RunSummary(), Rate(), time.monotonic()
    since = utcnow()  # rows written from now on are this run's (the workers' clock: one PC, or NTP)
    paths = walk_photos(roots, summary.walk)
    chunks = chunked(paths, chunk_size)
    total_counts = WalkCounts()

    def count() -> None:
        summary.total = count_photos(roots, total_counts)

    threading.Thread(target=count, name="archive-count", daemon=True).start()
    if max_in_flight is None:  # enough queued that no worker waits, few enough to stay small
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()) or 1
        max_in_flight = 2 * threads + 2
    run_id = uuid.uuid4().hex[:8]
    key_prefix = f"mobileiqa-archive-{run_id}-"
    in_flight: dict[str, tuple[object, list[str], bool]] = {}  # key -> (future, paths, run alone)
    again: deque[list[str]] = deque()  # pieces of split chunks, sent before new ones
    # Photos left alone in a piece whose workers kept dying. A worker's death also condemns the
    # chunks merely queued on it, so each is tried once more with nothing else running: only a
    # photo that kills its worker then is stored as such.
    suspects: deque[str] = deque()
    ac = as_completed()
    serial = 0
    kills_before: dict[str, int] = {}  # a suspect's key -> memory kills when it was sent alone

    def submit(chunk: list[str], alone: bool = False) -> None:
        nonlocal serial
        key = f"{key_prefix}{serial}"
        serial += 1
        future = client.submit(score_chunk, chunk, since, key=key, pure=False, retries=1)
        in_flight[key] = (future, chunk, alone)
        if alone:
            kills_before[key] = memory_kills(client)
        ac.add(future)
        summary.chunks += 1

    def fill() -> None:
        while len(in_flight) < max_in_flight and not summary.stopped and not (cancel and cancel.is_set()):
            if suspects or any(alone for _, _, alone in in_flight.values()):
                if not in_flight:  # drained: the suspect runs alone
                    submit([suspects.popleft()], alone=True)
                return
            if again:
                submit(again.popleft())
                continue
            chunk = next(chunks, None)
            if chunk is None:
                return
            summary.found += len(chunk)
            submit(chunk)

    def report(final: bool = False) -> None:
        rate.add(time.monotonic(), summary.done)
        if progress is not None:
            progress(summary, rate.per_second(), time.monotonic() - start, final=final)

    try:
        fill()
        for future in ac:
            _, chunk, alone = in_flight.pop(future.key)
            if future.status == "finished":
                result: ChunkResult = future.result()
                summary.add(result)
                if result.stopped and not summary.stopped:
                    summary.stopped = result.stopped
            else:
                exc = future.exception()
                # A future lost with its worker may come back with no exception at all (seen when
                # the machine is loaded): that is a worker's death too, not the chunk's failure.
                if exc is None or isinstance(exc, KilledWorker):
                    if len(chunk) > 1:  # halved until the photo that kills its worker is alone
                        half = len(chunk) // 2
                        again.extend([chunk[:half], chunk[half:]])
                        summary.split += 1
                    elif not alone:
                        suspects.append(chunk[0])
                    else:  # it killed its worker with nothing else running, every time
                        deaths = 1 + int(getattr(exc, "allowed_failures", 0) or 0)
                        over_memory = memory_kills(client) > kills_before.get(future.key, 0)
                        summary.stored += db.run(record_worker_crash, db, model_version_id, chunk[0], deaths,
                                                 over_memory)
                        summary.worker_crashes += 1
                else:
                    summary.stored += _stored_of(db, model_version_id, chunk, since)  # before it failed
                    if not summary.stopped:
                        summary.stopped = f"a chunk failed on its worker: {type(exc).__name__}: {exc}"
            future.release()
            report()
            if summary.stopped or (cancel and cancel.is_set()):
                break
            fill()
        if summary.stopped:
            _drain(client, db, model_version_id, in_flight, since, summary)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if in_flight:  # stopped early: nothing more is wanted from these (what they stored is kept)
            client.cancel([f for f, _, _ in in_flight.values()], force=True)
    summary.rescheduled = rescheduled_chunks(client, key_prefix)
    summary.wall_seconds = time.monotonic() - start
    if summary.total is None and not in_flight and summary.stopped is None and not summary.interrupted:
        summary.total = summary.found
    report(final=True)
    return summary
