"""A worker plugin for tests: the worker process dies (os._exit) while scoring one named photo,
the first time only, so a chunk is cut exactly between two stored photos."""
from __future__ import annotations

import os
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin


class DieOnceAt(WorkerPlugin):
    name = "test-die-once"

    def __init__(self, photo: str, marker: str):
        self.photo, self.marker = photo, marker

    def setup(self, worker=None) -> None:
        from app.core.scoring import photo as scoring  # where the chunk task calls score_photo

        self._real = real = scoring.score_photo
        photo, marker = self.photo, self.marker

        def score_photo(engine, path, *args):
            if str(path) == photo and not os.path.exists(marker):
                Path(marker).write_text(str(os.getpid()))
                os._exit(1)  # mid-chunk: the photos before this one are stored
            return real(engine, path, *args)

        scoring.score_photo = score_photo

    def teardown(self, worker=None) -> None:
        from app.core.scoring import photo as scoring  # where the chunk task calls score_photo

        scoring.score_photo = self._real


class DieAlwaysAt(DieOnceAt):
    """The worker process dies every time it scores that photo (a decoder that crashes on it)."""

    name = "test-die-always"

    def setup(self, worker=None) -> None:
        from app.core.scoring import photo as scoring  # where the chunk task calls score_photo

        self._real = real = scoring.score_photo
        photo = self.photo

        def score_photo(engine, path, *args):
            if str(path) == photo:
                os._exit(1)
            return real(engine, path, *args)

        scoring.score_photo = score_photo


class StoreFailsAt(WorkerPlugin):
    """Storing one named photo fails as a full disk does (permanent): the chunk stops there and
    the run with it, while other chunks may still be storing."""

    name = "test-store-fails"

    def __init__(self, photo: str):
        self.photo = photo

    def setup(self, worker=None) -> None:
        from app.core.scoring import photo as scoring  # where score_batch calls record_score
        from app.core.store.faults import StoreError

        self._real = real = scoring.record_score
        photo = self.photo

        def record_score(db, model_version_id, record):
            if record.path == photo:
                raise StoreError("archive.db", "database or disk is full (free some disk space)", permanent=True)
            return real(db, model_version_id, record)

        scoring.record_score = record_score

    def teardown(self, worker=None) -> None:
        from app.core.scoring import photo as scoring

        scoring.record_score = self._real


class DieInSetupOnce(WorkerPlugin):
    """The worker process dies while the scoring plugin loads the model, the first time only (a
    worker killed in its first seconds): registered before the scoring plugin."""

    name = "test-die-in-setup"

    def __init__(self, marker: str):
        self.marker = marker

    def setup(self, worker=None) -> None:
        from app.archive import plugin  # where ScoringPlugin.setup calls load_model

        self._real = real = plugin.load_model
        marker = self.marker

        def load_model(*args, **kwargs):
            if not os.path.exists(marker):
                Path(marker).write_text(str(os.getpid()))
                os._exit(1)
            return real(*args, **kwargs)

        plugin.load_model = load_model

    def teardown(self, worker=None) -> None:
        from app.archive import plugin

        plugin.load_model = self._real


class EatMemoryAt(DieOnceAt):
    """Scoring one named photo takes ``mb`` MB more than the decode bound foresaw (the estimate
    missed): the nanny kills its worker for passing its memory limit, every time."""

    name = "test-eat-memory"

    def __init__(self, photo: str, mb: int):
        self.photo, self.mb = photo, mb

    def setup(self, worker=None) -> None:
        import time

        from app.core.scoring import photo as scoring

        self._real = real = scoring.score_photo
        photo, size = self.photo, self.mb * 2**20

        def score_photo(engine, path, *args):
            if str(path) == photo:
                hog = bytearray(size)  # zero-filled: every page touched
                time.sleep(5)  # the nanny looks at its worker's memory every 100 ms
                hog.clear()
            return real(engine, path, *args)

        scoring.score_photo = score_photo
