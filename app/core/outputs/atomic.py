"""Writing an output file (a CSV, a report) whole or not at all, without harming what is there."""
from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: str | Path, newline: str | None = None, encoding: str = "utf-8"):
    """A text file to write ``path`` through. A regular file (or a new one) is written beside
    itself and renamed over it at the end, so a crash leaves the old file; anything else already
    there (``/dev/null``, ``/dev/stdout``, a FIFO) is written to directly: renaming over a
    device would replace the device with a plain file. ``encoding`` "utf-8-sig" starts the file
    with a byte order mark (for spreadsheets)."""
    path = Path(path)
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(path, "w", newline=newline, encoding=encoding) as f:
            yield f
        return
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "w", newline=newline, encoding=encoding) as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
