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

        def score_photo(engine, path, source="folder"):
            if str(path) == photo and not os.path.exists(marker):
                Path(marker).write_text(str(os.getpid()))
                os._exit(1)  # mid-chunk: the photos before this one are stored
            return real(engine, path, source)

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

        def score_photo(engine, path, source="folder"):
            if str(path) == photo:
                os._exit(1)
            return real(engine, path, source)

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
