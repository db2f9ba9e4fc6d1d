"""What runs on each Dask worker: the scoring plugin (model and database, opened once per worker
process) and the chunk task.

The client admits the model (app.core.model.trust) and ships its files' bytes with the plugin, so
every worker runs exactly the admitted graphs whatever is installed on its PC; the worker's loader
checks them against the card's hashes again. A chunk is idempotent: a photo scored and unchanged
is skipped, every other one is upserted (one row per photo and model version), so the engine may
run a chunk again after a worker died in it and nothing is lost or doubled.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from ..core.model.loader import load_model
from ..core.scoring.engine import Engine
from ..core.scoring.photo import canonical_path, score_batch, storable_path
from ..core.store.database import Database
from ..core.store.faults import StoreError
from ..core.store.repository import ScoreRecord, model_calibration, record_score, stored_since
from ..core.store.urls import hide_password
from . import memory

PLUGIN_NAME = "mobileiqa-archive"


@dataclass
class ChunkResult:
    """What one chunk did: counts only (the rows are in the database)."""

    scored: int = 0
    failed: int = 0
    skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # failed photos by status
    model_errors: int = 0
    seconds: float = 0.0  # wall time on the worker
    worker: str = ""
    pid: int = 0
    peak_rss_mb: float = 0.0  # the worker process's high-water mark so far
    stopped: str | None = None  # a database problem that stopped this chunk (one line)
    stored: int = 0  # its photos with a row written since the run began, by this try or one whose worker died


def model_files(card_path: Path) -> dict[str, bytes]:
    """The card and the graphs it names, as bytes (what travels to the workers)."""
    import json

    card = json.loads(card_path.read_text(encoding="utf-8"))
    names = [card_path.name, card["onnx_file"]]
    if card.get("detail_model"):
        names.append(card["detail_model"]["onnx_file"])
    return {name: (card_path.parent / name).read_bytes() for name in names}


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except Exception:
        return 0.0


class ScoringPlugin(WorkerPlugin):
    """``setup`` runs once per worker process (and again in a process its nanny restarts after a
    crash): the model's sessions and a database pool, kept for every chunk the worker runs."""

    name = PLUGIN_NAME
    idempotent = False  # a new run's plugin replaces the previous run's on a long-lived cluster

    def __init__(self, db_url: str, model_version_id: int, sha256: str, card_name: str,
                 files: dict[str, bytes], threads: int | None = None, provider: str | None = None):
        self.db_url, self.model_version_id, self.sha256 = db_url, model_version_id, sha256
        self.card_name, self.files, self.threads, self.provider = card_name, files, threads, provider
        self.engine: Engine | None = None
        self.db: Database | None = None
        self.address, self._folder = "", None

    def __repr__(self) -> str:  # what a log may show: never the password
        return f"ScoringPlugin({hide_password(self.db_url)}, model version {self.model_version_id})"

    def __getstate__(self):  # the open model and database stay on the worker
        state = self.__dict__.copy()
        state.update(engine=None, db=None, _folder=None)
        return state

    def setup(self, worker=None) -> None:
        base = getattr(worker, "local_directory", None) or tempfile.gettempdir()
        self._folder = tempfile.TemporaryDirectory(prefix="mobileiqa-model-", dir=base)
        folder = Path(self._folder.name)
        for name, data in self.files.items():
            (folder / name).write_bytes(data)
        threads = self.threads or int(os.environ.get("MOBILEIQA_ORT_THREADS", "0")) or None
        model = load_model(folder / self.card_name, threads=threads, provider=self.provider)  # hashes checked again
        if model.card["sha256"] != self.sha256:
            raise RuntimeError(f"the model shipped to this worker is not the admitted one ({model.card['sha256'][:12]}…)")
        self.files = {}  # written and verified: the bytes are not kept in memory
        try:
            self.db = Database(self.db_url, migrate=False)  # the client migrated it
        except Exception as exc:  # the message a worker log shows: the URL without its password
            raise RuntimeError(f"cannot open the database {hide_password(self.db_url)}: {exc}") from None
        self.engine = Engine(model, self.db.run(model_calibration, self.db, self.model_version_id))
        self.address = getattr(worker, "address", "") or ""

    def teardown(self, worker=None) -> None:
        if self.db is not None:
            self.db.close()
        if self._folder is not None:
            self._folder.cleanup()

    def score_chunk(self, paths: list[str], since: datetime | None = None) -> ChunkResult:
        start = time.monotonic()
        out = ChunkResult(worker=self.address, pid=os.getpid())
        db, mv = self.db, self.model_version_id
        try:
            # Read per chunk: a supervisor's new thresholds or calibration apply from the next chunk.
            self.engine.calibration = db.run(model_calibration, db, mv)

            def tally(_summary, record: ScoreRecord) -> None:
                if record.status != "ok":
                    out.statuses[record.status] = out.statuses.get(record.status, 0) + 1
                    out.model_errors += record.status == "model_error"

            # Upserts, one photo at a time: a rerun of the chunk after a lost worker is harmless.
            # The decode bound this worker's memory limit leaves room for (memory.py), per chunk.
            summary = score_batch(paths, self.engine, db, mv, progress=tally, source="archive",
                                  decode_pixels=memory.decode_pixels(get_worker()))
            out.scored, out.failed, out.skipped = summary.scored, summary.failed, summary.skipped
            out.stored = summary.scored + summary.failed
            if summary.error:
                out.stopped = summary.error
            # A try of this chunk whose worker died stored some photos that this one skipped as
            # unchanged: they were stored in this run all the same (the database knows).
            if since is not None and summary.skipped:
                out.stored = db.run(stored_since, db, mv, storable_keys(paths), since)
        except StoreError as exc:  # returned, not raised: permanent, or outlasted the retries
            out.stopped = out.stopped or str(exc)
        out.seconds = time.monotonic() - start
        out.peak_rss_mb = peak_rss_mb()
        return out


def score_chunk(paths: list[str], since: datetime | None = None) -> ChunkResult:
    """The Dask task: score one chunk with this worker's plugin (``since``: when the run began)."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if plugin is None or plugin.engine is None:
        raise RuntimeError("this worker has no MobileIQA scoring plugin (it failed to start: see its log)")
    return plugin.score_chunk(paths, since)


def app_version() -> str:
    """Run on the scheduler and the workers when a run connects: that it is unpickled there at all
    proves they import this module (and so the app) as the chunk tasks will need."""
    from .. import __version__

    return __version__


def storable_keys(paths: list[str]) -> list[str]:
    """The names the database holds the walk's ``paths`` under (those it can hold)."""
    keys = (storable_path(canonical_path(p)) for p in paths)
    return [k for k in keys if k is not None]


def record_worker_crash(db: Database, model_version_id: int, path: str, attempts: int,
                        over_memory: bool = False) -> bool:
    """A photo whose scoring killed the worker process each time it ran alone (a decoder crash,
    memory beyond the worker's limit): stored with that reason, like any photo that fails; as too
    large when the nannies said they killed it for its memory (``over_memory``)."""
    key = storable_path(canonical_path(path))
    if key is None:
        return False  # the walk's name cannot be stored; the run reports it
    if over_memory:
        record = ScoreRecord(key, "too_large", error=f"{Path(key).name}: it needs more memory than a worker may use: "
                             f"the scoring process passed its memory limit on this photo {attempts} times, with "
                             "nothing else running (give the workers more memory: --worker-memory)", source="archive")
    else:
        record = ScoreRecord(key, "corrupt", error=f"{Path(key).name}: the scoring process died on this photo "
                             f"{attempts} times, with nothing else running (a decoder crash, or more memory than a "
                             "worker may use)", source="archive")
    db.run(record_score, db, model_version_id, record)
    return True
