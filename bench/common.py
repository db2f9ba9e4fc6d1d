"""Helpers the benchmark scripts share: timing, memory sampling, generated photos, and how late
the Qt event loop serves a timer. Imports only numpy and the standard library at the top, so the
BRISQUE child (its own small venv) can import it too."""
from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

import numpy as np


def median_ms(fn, repeats: int, warmup: bool = True) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` runs (after one warm-up)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class RssSampler(threading.Thread):
    def __init__(self, every: float = 0.05):
        super().__init__(daemon=True)
        self.every, self.peak, self.samples = every, 0.0, []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            value = rss_mb()
            self.samples.append(value)
            self.peak = max(self.peak, value)
            time.sleep(self.every)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def make_photos(folder: Path, n: int, width: int, height: int) -> list[Path]:
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    paths = []
    for i in range(n):
        base = (np.sin(xx / (20 + i % 13)) * np.cos(yy / (17 + i % 7)) * 80 + 128)[..., None] * [1.0, 0.9, 0.7]
        img = np.clip(base + rng.normal(0, 3 + (i % 10) * 3, base.shape), 0, 255).astype(np.uint8)
        if i % 4 == 0:
            img = cv2.GaussianBlur(img, (0, 0), 1 + i % 5)
        path = folder / f"photo_{i:04d}.jpg"
        cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


class TimerLateness:
    """A 20 ms QTimer that records how late the event loop serves it (ms past its period)."""

    def __init__(self, period_ms: int = 20):
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.period, self.delays = period_ms, []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = self._clock.elapsed()
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)
        self._timer.start(period_ms)

    def _tick(self) -> None:
        now = self._clock.elapsed()
        self.delays.append(now - self._last - self.period)
        self._last = now

    def stop(self) -> list[float]:
        self._timer.stop()
        return self.delays
