"""How many pixels a worker may decode at once, from the memory it may use.

Dask's nanny kills a worker whose process passes ``distributed.worker.memory.terminate`` (95 %)
of its memory limit. A photo that needs more would kill every worker it is given, one after
another; instead the decode bound (app.core.imageio.decode.load_rgb's ``decode_pixels``) is
lowered to what the worker has room for: such a photo is refused from its header and stored as
too large, like any photo past the bound, and a JPEG is decoded reduced by its DCT, as a larger
one always is. Whatever the estimate misses still kills its worker: run_chunks isolates it.
"""
from __future__ import annotations

import dask
import psutil

from ..core.imageio.decode import DECODE_PIXELS

# Peak memory while a photo is decoded and scored, per decoded pixel: measured 10-11 bytes (PNG and
# JPEG, 16 and 49 MP, the shipped model and a tiny one), with a margin.
BYTES_PER_PIXEL = 12


def decode_pixels(worker) -> int:
    """The decode bound for ``worker`` now: its room below the kill line, in pixels (at most the
    station's DECODE_PIXELS; that alone where the worker has no memory limit)."""
    limit = getattr(getattr(worker, "memory_manager", None), "memory_limit", None)
    terminate = dask.config.get("distributed.worker.memory.terminate", 0.95)
    if not limit or terminate is False:
        return DECODE_PIXELS
    room = limit * terminate - psutil.Process().memory_info().rss
    return max(0, min(DECODE_PIXELS, int(room // BYTES_PER_PIXEL)))
