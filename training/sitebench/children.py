"""A child process run to its end: its exit code, wall time and peak memory.

Peak memory is the child's own VmHWM, sampled while it runs (tests/peak_memory.py), not
``getrusage``'s ru_maxrss: Linux carries a parent's peak over fork and exec into the child's
ru_maxrss, and this benchmark's parent holds an ONNX session and the site's scores (measured here:
a ``python -c pass`` child of an 800 MB parent reported 810 MB through ``os.wait4``).
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.peak_memory import wait_recording_peak

from .station import ROOT


@dataclass(frozen=True)
class ChildRun:
    code: int
    seconds: float
    peak_mb: float


def run_child(cmd: list[str], env: dict[str, str], log_path: Path) -> ChildRun:
    started = time.time()
    with open(log_path, "w") as log:
        child = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        code, peak = wait_recording_peak(child)
    return ChildRun(code, time.time() - started, peak)
