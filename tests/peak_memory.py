"""Peak resident memory of one process, as the benchmarks report it.

VmHWM from /proc, never getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a
child started from a big process reports its parent's peak (a fault-suite child of the test
process showed 7.9 GB for a photo that needs 0.2). VmHWM belongs to the process's own memory
and starts afresh at exec.
"""
from __future__ import annotations

import os
import subprocess
import time


def peak_rss_mb(pid: int | str = "self") -> float:
    """The process's VmHWM in MB; 0 when it is gone (or on a system without /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def wait_recording_peak(proc: subprocess.Popen, every_s: float = 0.05) -> tuple[int, float]:
    """Wait for ``proc``; (its exit code, its peak RSS in MB sampled while it ran: the
    high-water mark only grows, so the last sample is within ``every_s`` of the end)."""
    peak = 0.0
    while True:
        pid, status = os.waitpid(proc.pid, os.WNOHANG)  # reaped here: /proc/PID is readable until then
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, peak
        peak = max(peak, peak_rss_mb(proc.pid))
        time.sleep(every_s)
