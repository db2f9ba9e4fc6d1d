"""The viewer's background work: keyed tasks of the window's TaskOwner (app.ui.tasks) in a lane
of their own (a map takes seconds: votes and saves never wait behind it, nor it behind them), one
job at a time, the newest request wins, results cached.

Selecting a photo asks for its outcome (decode + the bounded score pass) and then its native
damage maps (tiled, ``app.core.scoring.native_maps``). While a job runs, a newer request replaces any
waiting one, and the running job stops between tiles once it is no longer the newest; signals
of a stale job are dropped here, so the viewer never shows a photo the user has moved past.
Finished maps are cached per photo and model, so stepping back to a photo costs nothing, and
kept on disk across launches (``app.core.scoring.map_cache``, by content hash and model
identity): read and written in the job's thread, never the GUI thread.
Once the photo in view is mapped, the next one in the gallery's order is decoded and scored
(``prefetch``), so stepping to it shows it at once (about 1 s at 12 MP, 2 s at 48 MP before).

A job reports as it goes (the outcome before its map, the map's tiles): its signals, emitted on
the lane's thread, are connected to ViewerJobs' own bound slots. ViewerJobs lives on the GUI
thread, and Qt queues a cross-thread signal onto a receiver's slot (never a lambda's), so the
caches and the stale-job check are only ever touched there.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from ..core.imageio.decode import load_what_decodes
from ..core.imageio.exif import read_exif
from ..core.model.contract import model_identity
from ..core.scoring.map_cache import MapCache, grid_shape
from ..core.scoring.native_maps import native_maps
from ..core.scoring.photo import score_photo
from .tasks import TaskOwner

CACHED_PHOTOS = 4  # decoded photos are large (36 MB at 12 MP): keep only the last few
# Native maps are small (two floats per 16x16 photo pixels: 1.5 MB at 48 MP) but a shift steps
# through thousands of photos: the newest 64 are kept, enough to step back and forth.
CACHED_MAPS = 64
# The owner's keys: the photo asked for (a newer request replaces it) and the next one decoded
# ahead; both in the viewer's lane.
VIEW, PREFETCH, LANE = "viewer photo", "viewer prefetch", "viewer"


class _Signals(QObject):
    # Each carries the job's id and its cache key, (path, model): the receiver needs no closure.
    scored = Signal(int, object, object)  # job id, key, PhotoOutcome
    progress = Signal(int, object, int, int)  # job id, key, tiles done, tiles in all
    mapped = Signal(int, object, object)  # job id, key, NativeMaps (None when cancelled) or the exception


class _ViewerJob:
    """One photo decoded, scored and mapped; ``run`` is the task the owner runs."""

    def __init__(self, job_id: int, engine, path: str, is_current, outcomes: "_Outcomes", key, signals: _Signals,
                 need_map: bool = True, disk: MapCache | None = None):
        self.job_id, self.engine, self.path, self.is_current = job_id, engine, path, is_current
        self.outcomes, self.key, self.need_map, self.disk = outcomes, key, need_map, disk
        self.signals = signals  # ViewerJobs' own: it outlives every job

    def run(self) -> None:
        try:
            # Looked up when the job runs, not when it was asked for: a prefetch of this photo
            # that ran just before has decoded it already.
            outcome = self.outcomes.get(self.key)
            if outcome is None:
                era = self.outcomes.era  # scores changed after this (a calibration): not kept
                outcome = score_photo(self.engine, Path(self.path))
                if outcome.rgb is not None:
                    outcome = replace(outcome, exif=read_exif(self.path))
                elif outcome.record.status in ("truncated", "corrupt", "damaged"):  # show what decodes, with its status
                    outcome = replace(outcome, rgb=load_what_decodes(self.path))
                self.outcomes.put(self.key, outcome, era)
            self.signals.scored.emit(self.job_id, self.key, outcome)
            damage = None
            stored = model = None
            if self.need_map and outcome.result is not None and self.is_current(self.job_id):
                model = model_identity(self.engine.model.card) if self.disk is not None else None
                if model is not None:
                    stored = self.disk.get(outcome.record.content_hash, model,
                                           grid_shape(*outcome.rgb.shape[:2], self.engine.stride))
                damage = stored
                if damage is None:
                    damage = native_maps(self.engine, outcome.rgb, outcome.result,
                                         cancelled=lambda: not self.is_current(self.job_id),
                                         progress=lambda d, t: self.signals.progress.emit(self.job_id, self.key, d, t))
            self.signals.mapped.emit(self.job_id, self.key, damage)
            if damage is not None and stored is None and model is not None:  # after it shows: kept for the next launch
                self.disk.put(outcome.record.content_hash, model, damage)
        except Exception as exc:  # never let a viewer job die silently: the viewer says what failed
            self.signals.mapped.emit(self.job_id, self.key, exc)


class _Outcomes:
    """The last few decoded and scored photos, shared by the GUI thread and the job's thread."""

    def __init__(self, size: int):
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()
        # Counts the clears: a job that scored before the latest one (its scores changed since,
        # e.g. a calibration was applied while it ran) keeps its outcome out of the cache, or the
        # next request would show the old score.
        self.era = 0

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
            return self._items.get(key)

    def put(self, key, outcome, era: int | None = None) -> None:
        with self._lock:
            if era is not None and era != self.era:
                return
            self._items[key] = outcome
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.era += 1


class ViewerJobs(QObject):
    scored = Signal(str, object)  # path, PhotoOutcome
    progress = Signal(str, int, int)  # path, tiles done, tiles in all
    mapped = Signal(str, object)  # path, NativeMaps or the exception that stopped it

    def __init__(self, tasks: TaskOwner, parent=None, disk: MapCache | None = None):
        super().__init__(parent)
        self.tasks = tasks  # one viewer job at a time, in its lane: a 12 MP map uses both cores
        self.disk = disk  # the maps kept across launches; None: memory only
        self._latest = 0
        self._outcomes = _Outcomes(CACHED_PHOTOS)
        self._maps: OrderedDict = OrderedDict()
        # Every job reports through this one object, made here: it lives on the GUI thread, and
        # as long as ViewerJobs, so no queued signal is dropped with a job.
        self._signals = _Signals(self)
        self._signals.scored.connect(self._on_scored)
        self._signals.progress.connect(self._on_progress)
        self._signals.mapped.connect(self._on_mapped)
        self.runs = 0  # jobs started (tests check that one photo is never mapped twice at once)
        self._prefetched = 0

    def _key(self, engine, path: str):
        return path, engine.model.card.get("sha256")

    def request(self, engine, path: str) -> None:
        self._latest += 1
        job_id, key = self._latest, self._key(engine, path)
        self.tasks.cancel(PREFETCH)  # waiting jobs for photos the user has moved past never start
        outcome = self._outcomes.get(key)
        if outcome is not None and key in self._maps:
            self.tasks.cancel(VIEW)
            self._maps.move_to_end(key)
            self.scored.emit(path, outcome)
            self.mapped.emit(path, self._maps[key])
            return
        job = _ViewerJob(job_id, engine, path, self._is_latest, self._outcomes, key, self._signals,
                         need_map=key not in self._maps, disk=self.disk)
        self.runs += 1
        self.tasks.submit(VIEW, job.run, lane=LANE)  # a request still waiting never starts

    def prefetch(self, engine, path: str) -> None:
        """Decode and score ``path`` now, unseen, so that showing it next costs nothing. Asked
        once the photo in view is mapped; a later request drops it if it has not started."""
        key = self._key(engine, path)
        if self._outcomes.get(key) is not None:
            return
        self._prefetched += 1
        job_id = -self._prefetched  # never the newest request: it shows nothing
        job = _ViewerJob(job_id, engine, path, self._is_latest, self._outcomes, key, self._signals, need_map=False)
        self.tasks.submit(PREFETCH, job.run, replace=False, lane=LANE)

    def _is_latest(self, job_id: int) -> bool:
        """Asked from the job's thread between tiles: is this still the newest request?"""
        return job_id == self._latest

    # The job's signals arrive at these slots on the GUI thread (ViewerJobs lives there).
    @Slot(int, object, object)
    def _on_scored(self, job_id: int, key, outcome) -> None:
        if job_id == self._latest:
            self.scored.emit(key[0], outcome)

    @Slot(int, object, int, int)
    def _on_progress(self, job_id: int, key, done: int, total: int) -> None:
        if job_id == self._latest:
            self.progress.emit(key[0], done, total)

    @Slot(int, object, object)
    def _on_mapped(self, job_id: int, key, damage) -> None:
        # A prefetch (never the newest) ends here too: its outcome is cached, it shows nothing.
        if damage is not None and not isinstance(damage, Exception):
            self._maps[key] = damage
            self._maps.move_to_end(key)
            while len(self._maps) > CACHED_MAPS:
                self._maps.popitem(last=False)
        elif damage is None and key in self._maps:
            damage = self._maps[key]  # the map was cached; only the outcome was computed again
        if job_id == self._latest:
            self.mapped.emit(key[0], damage)

    @property
    def cached_maps(self) -> int:
        return len(self._maps)

    def forget(self) -> None:
        """Drop cached outcomes (their scores changed); the maps stay valid (same pixels, same model)."""
        self._outcomes.clear()

    def request_stop(self) -> None:
        """Make every job stale (a running map stops at its next tile), e.g. before closing."""
        self._latest += 1
        self.tasks.cancel(VIEW)
        self.tasks.cancel(PREFETCH)

    def busy(self) -> bool:
        return self.tasks.busy(VIEW) or self.tasks.busy(PREFETCH)

    def wait(self, ms: int = 30000) -> bool:
        """Wait until the viewer's lane has run what it was given (tests, benchmarks)."""
        return self.tasks.wait(LANE, ms)
