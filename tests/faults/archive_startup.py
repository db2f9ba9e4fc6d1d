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

from .common import Context, Outcome, finish, one_row_each, spawn, sqlite_rows, write_photos
from .registry import EXIT_0, judge, scenario

N_PHOTOS = 12


def _skip(o: Outcome) -> bool:
    if importlib.util.find_spec("distributed") is None or importlib.util.find_spec("psutil") is None:
        o.skipped = "Dask distributed is not installed"
        return True
    return False


def _start(ctx: Context, folder: Path, db: Path, *extra: str) -> subprocess.Popen:
    args = [ctx.python, "-m", "app", "archive", "score", str(folder), "--db", str(db), "--workers", "2", "--chunk",
            "4", "--model", str(ctx.tiny["ok"]), *ctx.trust_flag(), *extra]
    return spawn(ctx, args, preexec=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


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
        run = finish(proc, 180)
        judge(o, run, what, EXIT_0)
        if not (run.hung or run.crashed):  # a wrong exit code, and its rows judged as well
            one_row_each(o, sqlite_rows(base / "d.db"), N_PHOTOS, what)


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
        run = finish(proc, 120)
        if not judge(o, run, what):
            continue
        code, err = run.rc, run.err
        said = [line for line in err.splitlines() if line.startswith("interrupted")]
        if code == 0:  # the run was quicker than the Ctrl+C: then it must be whole
            one_row_each(o, sqlite_rows(base / "d.db"), N_PHOTOS, what + " (the run had finished)")
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
        run = finish(_start(ctx, folder, db, "--worker-memory", "400MB"), 240)
        judge(o, run, what, EXIT_0)
        if run.hung or run.crashed:
            continue
        rows = sqlite_rows(db)
        one_row_each(o, rows, N_PHOTOS, what)
        huge = [r[1] for r in rows if r[0].endswith("huge.png")]
        if huge != ["too_large"]:
            o.note("wrong", f"{what}: the 36 MP photo stored as {huge}, expected too_large")
        others = [r[1] for r in rows if not r[0].endswith("huge.png") and r[1] != "ok"]
        if others:
            o.note("wrong", f"{what}: {len(others)} other photos not scored ({others[:3]})")
