"""Watch a folder for photos by polling (works on local disks and network shares alike).

``poll()`` returns what changed since the last call:
- ``ready``: a photo whose size and modification time have not changed for ``settle_seconds``
  (so a file still being written is not read half-way); files already there when watching
  starts come first, sorted by name;
- ``moved``: a photo already reported that reappeared under another name (same inode, size and
  modification time), so it is not scored twice; one rewritten in place is ``ready`` again;
- ``removed``: a reported photo that is gone.
Hidden files, temp files of cameras, browsers and editors, and non-image names are ignored.
A photo the reader could not decode can be handed back with ``retry_later``: it is offered
again once it settles anew, up to ``max_retries`` times, then ``retry_later`` returns False and
the caller reports the error.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# Every suffix a photo may carry, decodable or not: what cannot be decoded (RAW, JPEG 2000, ...)
# is still offered to the batch, so it is listed as "not scored" with its reason, never left out.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif",
                  ".heic", ".heif", ".hif", ".avif"}  # decodable
IMAGE_SUFFIXES = PHOTO_SUFFIXES | {".jp2", ".j2k", ".jxl", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf"}
TEMP_SUFFIXES = {".tmp", ".part", ".partial", ".crdownload", ".download", ".swp", ".filepart"}


def is_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith((".", "~$", "~")):
        return False
    suffixes = [s.lower() for s in path.suffixes]
    if any(s in TEMP_SUFFIXES for s in suffixes):
        return False
    return path.suffix.lower() in IMAGE_SUFFIXES


@dataclass(frozen=True)
class FolderEvent:
    kind: str  # ready, moved, removed
    path: Path
    old_path: Path | None = None


@dataclass
class _Pending:
    size: int
    mtime: float
    since: float
    existing: bool


@dataclass
class FolderWatcher:
    root: Path
    recursive: bool = False
    settle_seconds: float = 1.0
    max_retries: int = 3
    clock: Callable[[], float] = time.monotonic
    _pending: dict[Path, _Pending] = field(default_factory=dict)
    _reported: dict[Path, tuple[int, int, int]] = field(default_factory=dict)  # path -> (inode, size, mtime_ns)
    _retries: dict[Path, int] = field(default_factory=dict)
    _first_poll: bool = True

    def _listing(self) -> dict[Path, os.stat_result]:
        found = {}
        walker = os.walk(self.root) if self.recursive else [(str(self.root), [], os.listdir(self.root))]
        for folder, dirs, files in walker:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                path = Path(folder) / name
                if not is_candidate(path):
                    continue
                try:
                    st = path.stat()
                except OSError:  # vanished between listing and stat
                    continue
                if path.is_file():
                    found[path] = st
        return found

    def poll(self) -> list[FolderEvent]:
        now = self.clock()
        try:
            listing = self._listing()
        except FileNotFoundError:
            listing = {}
        events: list[FolderEvent] = []
        gone = {p: ident for p, ident in self._reported.items() if p not in listing}
        for path in sorted(listing):
            st = listing[path]
            if path in self._reported:
                # Rewritten in place (same inode, maybe the same size): its time tells; score again.
                if self._reported[path] != (st.st_ino, st.st_size, st.st_mtime_ns):
                    del self._reported[path]
                else:
                    continue
            # A rename keeps the inode, size and time.
            old = next((p for p, ident in gone.items() if ident == (st.st_ino, st.st_size, st.st_mtime_ns)), None)
            if old is not None:
                del gone[old]
                del self._reported[old]
                self._reported[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
                events.append(FolderEvent("moved", path, old))
                continue
            pending = self._pending.get(path)
            if pending is None or (pending.size, pending.mtime) != (st.st_size, st.st_mtime):
                self._pending[path] = _Pending(st.st_size, st.st_mtime, now, self._first_poll)
        for path in gone:
            del self._reported[path]
            events.append(FolderEvent("removed", path))
        for path in [p for p in self._pending if p not in listing]:
            del self._pending[path]
        settled = [p for p, info in self._pending.items() if now - info.since >= self.settle_seconds]
        # Files present at start first (by name), then newcomers in the order they settled.
        settled.sort(key=lambda p: (not self._pending[p].existing, self._pending[p].since, str(p)))
        for path in settled:
            info = self._pending.pop(path)
            self._reported[path] = (listing[path].st_ino, info.size, listing[path].st_mtime_ns)
            events.append(FolderEvent("ready", path))
        self._first_poll = False
        return events

    @property
    def pending(self) -> int:
        """Photos seen but not yet settled (still being written, or just arrived)."""
        return len(self._pending)

    def retry_later(self, path: Path) -> bool:
        """Offer ``path`` again after it settles anew; False once ``max_retries`` are used up."""
        n = self._retries.get(path, 0)
        if n >= self.max_retries:
            return False
        self._retries[path] = n + 1
        self._reported.pop(path, None)
        return True
