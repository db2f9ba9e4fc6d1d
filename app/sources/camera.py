"""A camera through OpenCV: a device index, a stream URL, or a video file standing in.

``CameraSource.read()`` never raises; it returns a ``CameraFrame`` whose ``status`` says what
happened:
- ``live``: a new frame (RGB uint8);
- ``stalled``: frames stopped coming, or the same frame keeps repeating, for a moment;
- ``lost``: the device was open and delivered, then stopped answering for ``stall_seconds``; it
  is closed and opened again every ``reconnect_seconds``, at most ``max_reconnects`` times in a row;
- ``not found`` (final): the device never opened, or did not answer within ``open_seconds``;
- ``gave up`` (final): a lost device that no reconnect brought back;
- ``ended`` (final): a video file reached its end ("video ended after N frames"); a file is never
  retried, and it plays at its own frame rate, as a camera would deliver it.

Opening is bounded in time: OpenCV can block for tens of seconds on a stream or a busy device,
so the open runs in a daemon thread that is abandoned (and its capture released when it returns)
once the time is up. ``probe_devices`` looks at several device indices the same way, together.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from ..core.store.urls import hide_password

LIVE, STALLED, LOST, ENDED = "live", "stalled", "lost", "ended"
NOT_FOUND, GAVE_UP = "not found", "gave up"
FINAL = (ENDED, NOT_FOUND, GAVE_UP)  # the source will deliver nothing more
OPEN_SECONDS = 4.0
FILE_FPS = 25.0  # a video file that does not say its frame rate


@dataclass(frozen=True)
class CameraFrame:
    status: str
    image: np.ndarray | None = None  # RGB uint8 when live
    message: str = ""


def parse_spec(spec: str | int) -> str | int:
    """"0" -> device 0; anything else (URL, file path) as given."""
    if isinstance(spec, int):
        return spec
    return int(spec) if spec.strip().isdigit() else spec


class _NotOpened:
    """What a bounded open returns when the device did not open in time: a closed capture."""

    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass


def open_bounded(spec: str | int, seconds: float = OPEN_SECONDS,
                 open_capture: Callable[[str | int], object] = cv2.VideoCapture):
    """``open_capture(spec)``, waited for at most ``seconds``; a closed capture when it is late."""
    box: dict = {}
    late = threading.Event()

    def opening() -> None:
        try:
            cap = open_capture(spec)
        except Exception:  # noqa: BLE001 - a backend's error means "did not open", said by the caller
            cap = _NotOpened()
        box["cap"] = cap
        if late.is_set():
            cap.release()  # nobody waits for it any more

    thread = threading.Thread(target=opening, name=f"camera-open-{spec}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive() or "cap" not in box:
        late.set()
        if "cap" in box:  # it arrived between the join and the flag
            box["cap"].release()
        return _NotOpened()
    return box["cap"]


class CameraSource:
    def __init__(
        self,
        spec: str | int,
        open_capture: Callable[[str | int], object] | None = None,
        stall_seconds: float = 3.0,
        reconnect_seconds: float = 2.0,
        max_reconnects: int = 3,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.spec = parse_spec(spec)
        # What may be shown (status bar, messages, logs): a stream URL's password masked.
        self.shown = hide_password(self.spec) if isinstance(self.spec, str) else str(self.spec)
        self.is_file: bool | None = None  # looked up at the first open, off the GUI thread
        self._open_capture = open_capture or (lambda s: open_bounded(s, open_seconds))
        self.stall_seconds, self.reconnect_seconds = stall_seconds, reconnect_seconds
        self.max_reconnects = max_reconnects
        self._clock = clock
        self._cap = None
        self._next_attempt = 0.0
        self._last_new_frame = clock()
        self._last_signature: bytes | None = None
        self.ever_opened = False
        self.failed_reconnects = 0  # in a row, since the device was lost
        self.reconnects = 0  # reconnects that brought frames back
        self.frames = 0  # frames delivered
        self.frame_interval = 0.0  # seconds between frames a file plays at; a camera sets its own pace
        self._final: CameraFrame | None = None

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
        self._cap = None
        self._next_attempt = self._clock() + self.reconnect_seconds

    def _ensure_open(self) -> bool:
        if self._cap is not None:
            return True
        if self._clock() < self._next_attempt:
            return False
        if self.is_file is None:
            self.is_file = isinstance(self.spec, str) and Path(self.spec).is_file()
        cap = self._open_capture(self.spec)
        if not cap.isOpened():
            cap.release()
            if self.ever_opened:
                self.failed_reconnects += 1
            self._next_attempt = self._clock() + self.reconnect_seconds
            return False
        if self.ever_opened:
            self.reconnects += 1
        self.ever_opened = True
        self.failed_reconnects = 0
        self._cap = cap
        self._last_new_frame = self._clock()
        if self.is_file:
            fps = cap.get(cv2.CAP_PROP_FPS) if hasattr(cap, "get") else 0.0
            self.frame_interval = 1.0 / (fps if 1.0 <= (fps or 0.0) <= 240.0 else FILE_FPS)
        return True

    def _finish(self, status: str, message: str) -> CameraFrame:
        self.close()
        self._final = CameraFrame(status, message=message)
        return self._final

    def read(self) -> CameraFrame:
        if self._final is not None:
            return self._final
        if not self._ensure_open():
            if not self.ever_opened:
                return self._finish(NOT_FOUND, f"camera {self.shown!r} not found: it did not open")
            if self.failed_reconnects >= self.max_reconnects:
                return self._finish(GAVE_UP, f"camera {self.shown!r} lost: no frames after "
                                             f"{self.failed_reconnects} reconnect attempts; stopped")
            return CameraFrame(LOST, message=f"camera {self.shown!r} lost: no frames for {self.stall_seconds:.0f} s; "
                                             f"reconnecting (up to {self.max_reconnects} attempts)")
        ok, bgr = self._cap.read()
        now = self._clock()
        if not ok or bgr is None:
            if self.is_file:  # the end of the file: said once, never retried
                return self._finish(ENDED, f"video ended after {self.frames} frames")
            if now - self._last_new_frame >= self.stall_seconds:
                self._close()
                return CameraFrame(LOST, message=f"camera {self.shown!r} lost: no frames for {self.stall_seconds:.0f} s; "
                                                 f"reconnecting (up to {self.max_reconnects} attempts)")
            return CameraFrame(STALLED, message="waiting for a frame")
        # A frozen stream repeats one frame; compare a cheap signature, not the whole image.
        signature = cv2.resize(bgr, (16, 16), interpolation=cv2.INTER_AREA).tobytes()
        if signature == self._last_signature and not self.is_file:
            if now - self._last_new_frame >= self.stall_seconds:
                self._close()
                return CameraFrame(STALLED, message=f"the picture has not changed for {self.stall_seconds:.0f} s; reconnecting")
        else:
            self._last_signature = signature
            self._last_new_frame = now
        self.frames += 1
        return CameraFrame(LIVE, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


@dataclass(frozen=True)
class ProbedDevice:
    index: int
    found: bool
    size: tuple[int, int] | None = None  # width, height of the frames it offers


def probe_devices(indices: Iterable[int], seconds: float = 3.0,
                  open_capture: Callable[[str | int], object] = cv2.VideoCapture) -> list[ProbedDevice]:
    """Which device indices open, all looked at together and the whole look bounded by
    ``seconds``: a device that has not answered by then counts as not found."""
    indices = list(indices)
    found: dict[int, ProbedDevice] = {}

    def look(index: int) -> None:  # a look that outlasts the wait still releases what it opened
        try:
            cap = open_capture(index)
        except Exception:  # noqa: BLE001 - a backend's error: not found
            return
        if cap.isOpened():
            size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
            found[index] = ProbedDevice(index, True, size if all(size) else None)
        cap.release()

    threads = [threading.Thread(target=look, args=(i,), name=f"camera-probe-{i}", daemon=True) for i in indices]
    for t in threads:
        t.start()
    deadline = time.monotonic() + seconds + 0.5
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [found.get(i, ProbedDevice(i, False)) for i in indices]


def save_frame(image: np.ndarray, folder: Path, when: datetime | None = None) -> Path:
    """Write a scored frame as PNG (lossless: the saved photo is the one that was scored)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    path = folder / f"frame-{stamp}.png"
    tmp = path.with_name("." + path.name + ".tmp.png")  # hidden: a folder watcher ignores it
    if not cv2.imwrite(str(tmp), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {tmp}")
    tmp.replace(path)
    return path
