"""A photo file's one name: canonical (however it was reached), storable (valid UTF-8 text), and
printable (any bytes shown). A photo's identity in the database is its canonical path, so every
reader, scorer and ratings import names a file the same way."""
from __future__ import annotations

import os
from pathlib import Path


def storable_path(path: Path) -> str | None:
    """The path as text a database and a terminal can hold; None when the file system's name is
    not valid UTF-8 (its undecodable bytes come back from the OS as lone surrogates)."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return text


def printable_path(path: Path) -> str:
    """Any path as readable text: undecodable bytes shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def canonical_path(path: str | Path) -> Path:
    """The one name of a file however it was reached: absolute, with symlinks resolved (so a
    relative path, an absolute one and a symlinked folder give one row, not three)."""
    return Path(os.path.realpath(os.fspath(path)))
