"""The viewer's native damage maps kept on disk across launches (seconds of tiles for a 48 MP photo).

One compressed ``.npz`` per photo and model, float16 (the maps run 0..1: three decimals are plenty),
named by the photo's content hash (the sha256 of its bytes, as stored) and the model's identity
(``model.contract.model_identity``): a changed photo or another model is a miss, never a wrong
map. The folder is bounded in total size; the least recently used maps go first (a hit touches its
file). A file is written to a temporary name and renamed into place, so a crash leaves no half
map. A file is never trusted: one that does not load, or whose maps are not the photo's grid, is
removed and counts as a miss. Nothing here raises: a full disk or a read-only folder only means
the map is computed again. Disk work only: call it off the GUI thread.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

import numpy as np

from .native_maps import NativeMaps

log = logging.getLogger(__name__)

LIMIT_BYTES = 500 * 1024 * 1024  # about 700 photos' maps at 48 MP, many thousands at 12 MP
FORMAT = 1  # stored in each file: a later layout is a miss, not a misread
_HEX = re.compile(r"[0-9a-f]{64}")
_STALE_TMP_S = 3600  # a temporary file this old was left by a crash: removed when evicting


def grid_shape(height: int, width: int, stride: int) -> tuple[int, int]:
    """The native maps' grid for a photo: one cell per ``stride`` pixels, rounded up."""
    return (height + stride - 1) // stride, (width + stride - 1) // stride


class MapCache:
    def __init__(self, folder: Path, limit_bytes: int = LIMIT_BYTES):
        self.folder, self.limit_bytes = Path(folder), limit_bytes
        self._lock = threading.Lock()  # one eviction at a time within the process

    def _file(self, content_hash: str | None, model: str | None) -> Path | None:
        if not (isinstance(content_hash, str) and _HEX.fullmatch(content_hash)
                and isinstance(model, str) and _HEX.fullmatch(model)):
            return None  # no hash (never stored) or not one this cache made: never a path from it
        return self.folder / f"{model[:32]}-{content_hash}.npz"

    def get(self, content_hash: str | None, model: str | None, shape: tuple[int, int]) -> NativeMaps | None:
        """The stored maps of this photo's content under this model, if they have ``shape``."""
        path = self._file(content_hash, model)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if int(z["format"]) != FORMAT or str(z["model"]) != model or str(z["content"]) != content_hash:
                    raise ValueError("not this photo's or this model's maps")
                tiles, in_score = z["tiles"], z["in_score"]
            for m in (tiles, in_score):
                if m.dtype != np.float16 or m.shape != tuple(shape) or not np.isfinite(m).all():
                    raise ValueError(f"maps of shape {m.shape} ({m.dtype}), expected {tuple(shape)}")
        except Exception as exc:  # corrupt, truncated, wrong shape: removed, computed again
            log.warning("native map cache: %s ignored and removed (%s)", path.name, exc)
            self._remove(path)
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return NativeMaps(tiles=tiles.astype(np.float32), in_score=in_score.astype(np.float32))

    def put(self, content_hash: str | None, model: str | None, maps: NativeMaps) -> bool:
        """Store ``maps``; False when they could not be (no hash, disk full, ...)."""
        path = self._file(content_hash, model)
        if path is None:
            return False
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                np.savez_compressed(f, format=np.int32(FORMAT), model=np.str_(model), content=np.str_(content_hash),
                                    tiles=np.asarray(maps.tiles, np.float16),
                                    in_score=np.asarray(maps.in_score, np.float16))
            os.replace(tmp, path)
        except Exception as exc:
            log.warning("native map cache: could not store %s (%s)", path.name, exc)
            self._remove(tmp)
            return False
        self.evict()
        return True

    def evict(self) -> None:
        """Remove the least recently used maps until the folder holds at most ``limit_bytes``."""
        with self._lock:
            try:
                entries = list(os.scandir(self.folder))
            except OSError:
                return
            files, now = [], time.time()
            for e in entries:
                try:
                    st = e.stat()
                except OSError:
                    continue
                if e.name.endswith(".npz"):
                    files.append((st.st_mtime, st.st_size, e.path))
                elif e.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP_S:
                    self._remove(Path(e.path))
            total = sum(size for _, size, _ in files)
            for _, size, p in sorted(files):
                if total <= self.limit_bytes:
                    break
                self._remove(Path(p))
                total -= size

    def size_bytes(self) -> int:
        try:
            return sum(p.stat().st_size for p in self.folder.glob("*.npz"))
        except OSError:
            return 0

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
