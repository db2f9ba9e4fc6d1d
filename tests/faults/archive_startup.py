"""Class 15, the archive's start-up (issue 21, 14), through ``python -m app archive score`` on a
local cluster of two workers: a worker process killed in its first moments, a Ctrl+C (to the
whole process group, as a terminal sends it) before the first chunk, and a photo that needs more
memory than a worker may use. Each must end in a finished run or one clear line: exit 0 with one
row per photo, or exit 130 with one "interrupted" line; never a traceback, never a hang.
"""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .common import TRACEBACK, Context, Outcome, duplicates, sqlite_rows, write_photos
from .registry import scenario

N_PHOTOS = 12


def _skip(o: Outcome) -> bool:
    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("psutil") is None:
        o.skipped = "Dask distributed is not installed"
        return True
    return False


def _start(ctx: Context, folder: Path, db: Path, *extra: str) -> subprocess.Popen:
    args = [ctx.python, "-m", "app", "archive", "score", str(folder), "--db", str(db), "--workers", "2", "--chunk",
            "4", "--model", str(ctx.tiny["ok"]), *ctx.trust_flag(), *extra]
    return subprocess.Popen(args, cwd=ctx.app_root, env=ctx.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _first_worker(proc: subprocess.Popen, timeout: float = 120):
    """The first Dask worker process the command spawns (a child running multiprocessing's spawn)."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            for child in psutil.Process(proc.pid).children():
                if "spawn_main" in " ".join(child.cmdline()):
                    return child
        except psutil.Error:
            pass
        time.sleep(0.01)
    return None


def _finish(o: Outcome, proc: subprocess.Popen, what: str, timeout: float = 180) -> tuple[int | None, str]:
    try:
        err = proc.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        o.note("hangs", f"{what}: no exit within {timeout:.0f} s")
        return None, ""
    if TRACEBACK in err or proc.returncode == 1 or proc.returncode < 0:
        o.note("crashes", f"{what}: exit {proc.returncode}: {err.strip().splitlines()[-1:]}")
        return None, err
    return proc.returncode, err


def _one_row_each(o: Outcome, db: Path, n: int, what: str) -> list[tuple]:
    rows = sqlite_rows(db)
    if duplicates(rows):
        o.note("dup", f"{what}: {duplicates(rows)} duplicate rows", duplicates(rows))
    missing = n - len({r[0] for r in rows})
    if missing > 0:
        o.note("lost", f"{what}: {missing} of {n} photos have no row", missing)
    return rows


@scenario("archive_worker_killed_early", 15, slow=True)
def archive_worker_killed_early(ctx: Context, o: Outcome) -> None:
    """Before: exit 2, "Nanny failed to start" or "Stream is closed", 3 times in 3."""
    if _skip(o):
        return
    for delay in (0.0, 0.8, 1.6):  # before it reaches its nanny; while it starts; while it loads the model
        base = ctx.folder(f"c15_killed_{delay}")
        write_photos(base / "photos", N_PHOTOS)
        proc = _start(ctx, base / "photos", base / "d.db")
        worker = _first_worker(proc)
        if worker is not None:
            time.sleep(delay)
            try:
                worker.kill()
            except Exception:  # already gone
                pass
        what = f"a worker killed {delay} s after it appeared"
        code, err = _finish(o, proc, what)
        if code is None:
            continue
        if code != 0:
            o.note("wrong", f"{what}: exit {code}, expected 0: {err.strip().splitlines()[-1:]}")
        _one_row_each(o, base / "d.db", N_PHOTOS, what)


@scenario("archive_ctrl_c_before_the_first_chunk", 15, slow=True)
def archive_ctrl_c_before_the_first_chunk(ctx: Context, o: Outcome) -> None:
    """Before: a traceback (the workers', and Dask's at exit) and exit -2."""
    if _skip(o):
        return
    for delay in (0.0, 0.7, 1.4):
        base = ctx.folder(f"c15_ctrl_c_{delay}")
        write_photos(base / "photos", N_PHOTOS)
        proc = _start(ctx, base / "photos", base / "d.db")
        if _first_worker(proc) is not None:
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGINT)
        what = f"Ctrl+C {delay} s after the first worker appeared"
        code, err = _finish(o, proc, what, 120)
        if code is None:
            continue
        said = [line for line in err.splitlines() if line.startswith("interrupted")]
        if code == 0:  # the run was quicker than the Ctrl+C: then it must be whole
            _one_row_each(o, base / "d.db", N_PHOTOS, what + " (the run had finished)")
        elif code != 130 or len(said) != 1:
            o.note("wrong", f"{what}: exit {code} with {len(said)} 'interrupted' lines, expected 130 and one: "
                            f"{err.strip().splitlines()[-2:]}")


@scenario("archive_photo_over_the_workers_memory", 15, slow=True)
def archive_photo_over_the_workers_memory(ctx: Context, o: Outcome) -> None:
    """Before: workers killed one after another until none was left; the run and its rerun hung."""
    if _skip(o):
        return
    base = ctx.folder("c15_memory")
    folder = base / "photos"
    write_photos(folder, N_PHOTOS - 1)
    big = np.zeros((6000, 6000, 3), np.uint8)  # 36 MP, a few MB as PNG, over 400 MB while decoded
    big[::7, :, 0] = 200
    Image.fromarray(big).save(folder / "huge.png", compress_level=1)
    db = base / "d.db"
    for what in ("a run with 400 MB workers", "its rerun"):
        code, err = _finish(o, _start(ctx, folder, db, "--worker-memory", "400MB"), what, 240)
        if code is None:
            continue
        if code != 0:
            o.note("wrong", f"{what}: exit {code}, expected 0: {err.strip().splitlines()[-1:]}")
        rows = _one_row_each(o, db, N_PHOTOS, what)
        huge = [r[1] for r in rows if r[0].endswith("huge.png")]
        if huge != ["too_large"]:
            o.note("wrong", f"{what}: the 36 MP photo stored as {huge}, expected too_large")
        others = [r[1] for r in rows if not r[0].endswith("huge.png") and r[1] != "ok"]
        if others:
            o.note("wrong", f"{what}: {len(others)} other photos not scored ({others[:3]})")
