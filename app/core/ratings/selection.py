"""Which scored photos the raters should see next: where the model is least sure of itself
(its views disagree), nearest a threshold, or at random. Reads only the catalogue's scores.

A shared database holds a million scores of a version, and a rater wants fifty: the scores are
read a chunk at a time (store.chunks) and only the best ``n`` candidates so far are kept, in a
heap, so neither memory nor the collector's pauses grow with the table (docs/benchmarks.md).
Ties go to the photo scored first (the lower score id), whatever the chunk size."""
from __future__ import annotations

import heapq
import random
from collections import defaultdict

import numpy as np
from sqlalchemy import select

from ..store.chunks import CHUNK_ROWS, PATHS_PER_QUERY, keyset, unindexed
from ..store.database import Database
from ..store.schema import Image, Score
from ..verdict import Thresholds

STRATEGIES = ("uncertain", "borderline", "random")


class Smallest:
    """The ``n`` smallest (key, score id) pairs offered, however many are: a heap of at most ``n``
    entries (negated, so its top is the worst one kept and a better one replaces it at once). A
    key that is not a number (a score or an opinion missing) comes after every other."""

    def __init__(self, n: int):
        self.n, self.heap = n, []

    def offer(self, keys: np.ndarray, ids: list[int]) -> None:
        keys = np.asarray(keys, float)
        keys = np.where(np.isnan(keys), np.inf, keys)
        chosen = range(len(ids))
        if len(self.heap) >= self.n:  # only keys no worse than the worst kept can get in: skip the rest in numpy
            chosen = np.flatnonzero(keys <= -self.heap[0][0]).tolist()
        for i in chosen:
            entry = (-float(keys[i]), -ids[i])
            if len(self.heap) < self.n:
                heapq.heappush(self.heap, entry)
            elif entry > self.heap[0]:
                heapq.heapreplace(self.heap, entry)

    def best(self) -> list[tuple[float, int]]:
        return sorted((-key, -sid) for key, sid in self.heap)


def select_for_rating(db: Database, model_version_id: int, strategy: str, n: int,
                      thresholds: Thresholds | None = None, seed: int = 0, chunk: int = CHUNK_ROWS) -> list[str]:
    """Which scored photos to rate: ``uncertain`` (the model's views disagree most), ``borderline``
    (nearest a threshold), or ``random``. ``chunk``: score rows read per statement."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown selection {strategy!r}: uncertain, borderline or random")
    if n <= 0:
        return []
    scores = Score.__table__  # Core rows of the columns a choice needs, never ORM objects
    ok = (unindexed(scores.c.model_version_id) == model_version_id, scores.c.status == "ok")  # chunks walk the ids
    with db.session() as s:
        if strategy == "random":
            ids = _sample(keyset(s, select(scores.c.id).where(*ok), scores.c.id, chunk), n, seed)
        elif strategy == "uncertain":
            ids = _most_uncertain(keyset(s, select(scores.c.id, scores.c.opinions).where(*ok), scores.c.id, chunk), n)
        else:
            ids = _nearest(keyset(s, select(scores.c.id, scores.c.score).where(*ok), scores.c.id, chunk), n,
                           thresholds or Thresholds())
        return _paths(s, ids)


def _most_uncertain(chunks, n: int) -> list[int]:
    """Largest spread (standard deviation) of the model's per-view opinions first. The number of
    views is the largest any score has; a score with no opinions, or with another number of them,
    counts as no disagreement. That number is known only at the end, so each number of views keeps
    its own ``n`` most disagreeing scores, and its ``n`` first ones for when it is not the largest."""
    spread: dict[int, Smallest] = {}  # views -> the n largest spreads (key: -std)
    first: dict[int, list[int]] = defaultdict(list)  # views (0: none) -> the n first score ids
    for rows in chunks:
        # Flat lists of numbers per number of views, never a list per row kept: what outlives a
        # row is what the collector must walk again (the module's docstring).
        ids: dict[int, list[int]] = defaultdict(list)
        values: dict[int, list[float]] = defaultdict(list)
        for sid, opinions in rows:
            views = len(opinions) if opinions else 0
            ids[views].append(sid)
            if views:
                values[views].extend(opinions)
        for views, group in ids.items():
            first[views].extend(group[:n - len(first[views])])  # ids come in increasing order
            if views:
                # Vectorised per chunk: at 10,000 photos a per-row np.std took ~0.35 s (bench/load_test.py).
                std = np.array(values[views], float).reshape(len(group), views).std(axis=1)
                spread.setdefault(views, Smallest(n)).offer(-std, group)
    views = max(spread, default=None)
    candidates = spread[views].best() if views is not None else []
    candidates += [(0.0, sid) for other, ids in first.items() if other != views for sid in ids]
    return [sid for _, sid in sorted(candidates)[:n]]


def _nearest(chunks, n: int, t: Thresholds) -> list[int]:
    """Nearest either threshold first."""
    best = Smallest(n)
    for rows in chunks:
        ids, values = [], []
        for sid, score in rows:
            ids.append(sid)
            values.append(score)
        scores = np.array(values, float)
        best.offer(np.minimum(np.abs(scores - t.pass_at), np.abs(scores - t.fail_below)), ids)
    return [sid for _, sid in best.best()]


def _sample(chunks, n: int, seed: int) -> list[int]:
    """``n`` scores drawn uniformly without replacement (reservoir sampling: one pass, ``n`` ids
    kept), in random order; the same database and seed give the same sample."""
    rng, kept, seen = random.Random(seed), [], 0
    for rows in chunks:
        for (sid,) in rows:
            if seen < n:
                kept.append(sid)
            else:
                j = rng.randrange(seen + 1)
                if j < n:
                    kept[j] = sid
            seen += 1
    rng.shuffle(kept)
    return kept


def _paths(s, ids: list[int]) -> list[str]:
    """The photos' paths of the chosen score ids, in the order chosen (a few hundred at a time)."""
    paths = {}
    for at in range(0, len(ids), PATHS_PER_QUERY):
        paths.update(s.execute(select(Score.id, Image.path).join(Image).where(
            Score.id.in_(ids[at:at + PATHS_PER_QUERY]))).all())
    return [paths[sid] for sid in ids if sid in paths]
