"""The walk of an archive's roots, streamed: photo paths come out as the folders are read, so a
million-photo archive never becomes a million-entry list in one process.

Paths are canonical (absolute, symlinks resolved), the names the database stores, so a chunk's
stored rows can be found by path. Hidden folders (``.thumbnails``, ``.Trash-1000``) are not
entered; a folder reached twice (a symlink loop, overlapping roots) is read once.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from ..sources.folder import is_candidate


@dataclass
class WalkCounts:
    """What the walk saw besides photos (filled in as it goes)."""

    photos: int = 0
    ignored: int = 0  # files that are not photos by name
    unreadable: list[str] | None = None  # folders the walk could not list (permission, gone)

    def folder_failed(self, folder: str, exc: OSError) -> None:
        if self.unreadable is None:
            self.unreadable = []
        if len(self.unreadable) < 20:  # a few named; the count is what matters past that
            self.unreadable.append(f"{os.fsencode(folder).decode('utf-8', 'backslashreplace')}: {exc.strerror or exc}")


def walk_photos(roots: Iterable[str | os.PathLike], counts: WalkCounts | None = None) -> Iterator[str]:
    """Every photo-named file under ``roots`` (a root that is a file is yielded whatever its
    name), depth first, one folder listed at a time."""
    counts = counts if counts is not None else WalkCounts()
    seen: set[tuple[int, int]] = set()
    for root in roots:
        top = os.path.realpath(os.fspath(root))
        if not os.path.isdir(top):
            counts.photos += 1
            yield top  # named explicitly: scored, or reported with its status
            continue
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                entries = os.scandir(folder)
            except OSError as exc:
                counts.folder_failed(folder, exc)
                continue
            subfolders = []
            with entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()  # follows a symlink to a folder
                        link = entry.is_symlink()
                    except OSError:
                        is_dir, link = False, False
                    path = os.path.realpath(entry.path) if link else entry.path
                    if is_dir:
                        if not entry.name.startswith("."):
                            subfolders.append(path)
                    elif is_candidate(Path(entry.name)):
                        counts.photos += 1
                        yield path
                    else:
                        counts.ignored += 1
            stack.extend(sorted(subfolders, reverse=True))  # popped in name order


def chunked(paths: Iterable[str], size: int) -> Iterator[list[str]]:
    """Lists of at most ``size`` paths, drawn from ``paths`` as they are needed."""
    it = iter(paths)
    while chunk := list(islice(it, size)):
        yield chunk


def count_photos(roots: Iterable[str | os.PathLike], counts: WalkCounts) -> int:
    """Walk only to count (a progress total while the scoring walk is still going)."""
    for _ in walk_photos(roots, counts):
        pass
    return counts.photos
