"""Write files so that a crash never leaves a half-written one under the final name."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(final: str | Path):
    """Yield a temporary path in the same folder; on success it replaces ``final`` atomically."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; models and cards are for reading
        os.replace(tmp, final)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text_atomic(final: str | Path, text: str) -> None:
    with atomic_path(final) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
