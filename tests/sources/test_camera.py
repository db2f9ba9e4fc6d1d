import cv2
import numpy as np
import pytest

from app.sources.camera import (
    ENDED,
    GAVE_UP,
    LIVE,
    LOST,
    NOT_FOUND,
    STALLED,
    CameraSource,
    open_bounded,
    parse_spec,
    probe_devices,
    save_frame,
)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """A 12-frame MJPG video standing in for a camera; each frame differs."""
    path = tmp_path_factory.mktemp("cam") / "cam.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    assert writer.isOpened()
    for i in range(12):
        frame = np.full((48, 64, 3), i * 20, np.uint8)
        cv2.putText(frame, str(i), (5, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()
    return path


def test_a_video_file_stands_in_for_a_camera_and_ends(video):
    cam = CameraSource(str(video))
    frames = [cam.read() for _ in range(13)]
    assert [f.status for f in frames[:12]] == [LIVE] * 12
    assert frames[0].image.shape == (48, 64, 3)
    assert frames[12].status == ENDED and frames[12].message == "video ended after 12 frames"
    assert cam.read().status == ENDED  # said, and never retried
    assert cam.frame_interval == pytest.approx(0.1)  # it plays at its own 10 fps, as a camera would


class FlakyCapture:
    """A capture that delivers ``frames`` then stops answering, like an unplugged camera."""

    def __init__(self, frames, opened=True):
        self.frames, self.opened, self.i = frames, opened, 0

    def isOpened(self):
        return self.opened

    def read(self):
        if self.i < len(self.frames):
            self.i += 1
            return True, self.frames[self.i - 1]
        return False, None

    def release(self):
        pass


def _frames(n, start=0):
    return [np.full((8, 8, 3), (start + i) * 10, np.uint8) for i in range(n)]


def test_a_lost_camera_is_detected_and_reconnected(clock):
    captures = iter([FlakyCapture(_frames(3)), FlakyCapture([], opened=False), FlakyCapture(_frames(2, 10))])
    cam = CameraSource(0, open_capture=lambda spec: next(captures), stall_seconds=2, reconnect_seconds=1, clock=clock)
    assert [cam.read().status for _ in range(3)] == [LIVE] * 3
    assert cam.read().status == STALLED  # no frame yet, but not long enough to give up
    clock.t = 2.5
    lost = cam.read()
    assert lost.status == LOST and "reconnecting" in lost.message
    clock.t = 3.6
    assert cam.read().status == LOST  # the device is still gone
    clock.t = 4.7
    back = cam.read()
    assert back.status == LIVE and cam.reconnects == 1


def test_a_frozen_picture_counts_as_stalled(clock):
    same = [np.zeros((8, 8, 3), np.uint8)] * 10
    cam = CameraSource("rtsp://cam", open_capture=lambda spec: FlakyCapture(same), stall_seconds=2, clock=clock)
    assert cam.read().status == LIVE
    clock.t = 1
    assert cam.read().status == LIVE
    clock.t = 2.5
    assert cam.read().status == STALLED


def test_spec_parsing_and_saved_frames_are_lossless(tmp_path):
    assert parse_spec("0") == 0 and parse_spec("http://x/stream") == "http://x/stream"
    image = np.random.default_rng(0).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    path = save_frame(image, tmp_path / "frames")
    assert path.suffix == ".png" and not path.name.startswith(".")
    assert np.array_equal(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), image)


def test_a_device_that_never_opens_is_not_found_at_once_and_not_retried(clock):
    opened = []
    cam = CameraSource(7, open_capture=lambda spec: opened.append(spec) or FlakyCapture([], opened=False), clock=clock)
    first = cam.read()
    assert first.status == NOT_FOUND and "camera '7' not found" in first.message
    clock.t = 60
    assert cam.read().status == NOT_FOUND and opened == [7]


def test_a_lost_camera_is_retried_a_bounded_number_of_times_then_given_up(clock):
    captures = iter([FlakyCapture(_frames(2))] + [FlakyCapture([], opened=False)] * 10)
    cam = CameraSource(0, open_capture=lambda spec: next(captures), stall_seconds=2, reconnect_seconds=1,
                       max_reconnects=3, clock=clock)
    assert [cam.read().status for _ in range(2)] == [LIVE, LIVE]
    clock.t = 2.5
    assert cam.read().status == LOST
    said = []
    for t in (3.6, 4.7, 5.8):
        clock.t = t
        said.append(cam.read())
    assert [f.status for f in said] == [LOST, LOST, GAVE_UP]
    assert said[-1].message == "camera '0' lost: no frames after 3 reconnect attempts; stopped"
    clock.t = 100
    assert cam.read().status == GAVE_UP  # final: no more attempts


def test_an_open_that_hangs_is_abandoned_in_bounded_time():
    import time

    def hangs(spec):
        time.sleep(5)
        return FlakyCapture(_frames(1))

    started = time.monotonic()
    assert not open_bounded(3, 0.3, hangs).isOpened()
    assert time.monotonic() - started < 1.0


def test_probing_devices_finds_the_ones_that_open_and_a_hanging_one_does_not_hold_it_up():
    import time

    class Device(FlakyCapture):
        def get(self, prop):
            return {cv2.CAP_PROP_FRAME_WIDTH: 640, cv2.CAP_PROP_FRAME_HEIGHT: 480}.get(prop, 0)

    def open_device(index):
        if index == 2:
            time.sleep(5)  # a busy device that answers only after a long wait
        return Device(_frames(1), opened=index in (0, 2))

    started = time.monotonic()
    found = probe_devices(range(4), seconds=0.5, open_capture=open_device)
    assert time.monotonic() - started < 1.5
    assert [(d.index, d.found, d.size) for d in found] == [(0, True, (640, 480)), (1, False, None),
                                                          (2, False, None), (3, False, None)]
