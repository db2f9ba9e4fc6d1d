"""A camera through OpenCV: a device index, a stream URL, or a video file standing in.

``CameraSource.read()`` never raises; it returns a ``CameraFrame`` whose ``status`` says what
happened:
- ``live``: a new frame (RGB uint8);
- ``stalled``: frames stopped coming, or the same frame keeps repeating, for ``stall_seconds``;
  the source closes the device and reconnects;
- ``lost``: the device could not be opened or stopped answering; reconnect attempts follow every
  ``reconnect_seconds`` and the status goes back to ``live`` when frames return;
- ``ended``: a video file reached its end (a live camera never ends).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from ..core.store.urls import hide_password

LIVE, STALLED, LOST, ENDED = "live", "stalled", "lost", "ended"


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


class CameraSource:
    def __init__(
        self,
        spec: str | int,
        open_capture: Callable[[str | int], object] = cv2.VideoCapture,
        stall_seconds: float = 3.0,
        reconnect_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.spec = parse_spec(spec)
        # What may be shown (status bar, messages, logs): a stream URL's password masked.
        self.shown = hide_password(self.spec) if isinstance(self.spec, str) else str(self.spec)
        self.is_file = isinstance(self.spec, str) and Path(self.spec).is_file()
        self._open_capture = open_capture
        self.stall_seconds, self.reconnect_seconds = stall_seconds, reconnect_seconds
        self._clock = clock
        self._cap = None
        self._next_attempt = 0.0
        self._last_new_frame = clock()
        self._last_signature: bytes | None = None
        self.reconnects = 0

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
        cap = self._open_capture(self.spec)
        if not cap.isOpened():
            cap.release()
            self._next_attempt = self._clock() + self.reconnect_seconds
            return False
        if self._last_signature is not None:
            self.reconnects += 1
        self._cap = cap
        self._last_new_frame = self._clock()
        return True

    def read(self) -> CameraFrame:
        if not self._ensure_open():
            return CameraFrame(LOST, message=f"camera {self.shown!r} is not available; retrying")
        ok, bgr = self._cap.read()
        now = self._clock()
        if not ok or bgr is None:
            if self.is_file:
                self._close()
                return CameraFrame(ENDED, message="end of the video file")
            if now - self._last_new_frame >= self.stall_seconds:
                self._close()
                return CameraFrame(LOST, message=f"no frames for {self.stall_seconds:.0f} s; reconnecting")
            return CameraFrame(STALLED, message="waiting for a frame")
        # A frozen stream repeats one frame; compare a cheap signature, not the whole image.
        signature = cv2.resize(bgr, (16, 16), interpolation=cv2.INTER_AREA).tobytes()
        if signature == self._last_signature:
            if now - self._last_new_frame >= self.stall_seconds:
                self._close()
                return CameraFrame(STALLED, message=f"the picture has not changed for {self.stall_seconds:.0f} s; reconnecting")
        else:
            self._last_signature = signature
            self._last_new_frame = now
        return CameraFrame(LIVE, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


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
