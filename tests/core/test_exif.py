"""The EXIF reader behind the EXIF panel: what a camera recorded, and never a crash or a hang
on EXIF damaged in any way (a mutated-block fuzz)."""
import io
import struct
import time

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational as R

from app.core.imageio import exif as reader
from app.core.imageio.exif import (
    DAMAGED,
    MAX_TEXT,
    NONE,
    OK,
    UNREADABLE,
    CameraSettings,
    blur_hint,
    exif_from_bytes,
    focal_text,
    noise_hint,
    read_exif,
    shutter_text,
)

STATUSES = {OK, NONE, DAMAGED, UNREADABLE}


def camera_exif(**overrides) -> Image.Exif:
    """The EXIF of a phone photo: IFD0 (camera, date) and the Exif sub-IFD (exposure, lens)."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Acme", "Acme Phone 7", "2026:11:30 10:15:00"
    sub = exif.get_ifd(0x8769)
    sub[0x8827] = 3200  # ISO
    sub[0x829A] = R(1, 15)  # exposure time: 1/15 s
    sub[0x829D] = R(18, 10)  # f/1.8
    sub[0x920A] = R(42, 10)  # 4.2 mm
    sub[0xA405] = 26  # 26 mm in 35 mm terms
    sub[0x9003] = "2026:11:30 10:14:59"
    sub[0xA434] = "Acme back camera 4.2mm f/1.8"
    for tag, value in overrides.items():
        sub[int(tag, 16)] = value
    return exif


def photo_bytes(fmt: str = "JPEG", exif=None) -> bytes:
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8))
    out = io.BytesIO()
    img.save(out, fmt, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def test_a_phones_photo_tells_iso_shutter_aperture_focal_length_lens_and_when(tmp_path):
    path = tmp_path / "phone.jpg"
    path.write_bytes(photo_bytes("JPEG", camera_exif()))
    s = read_exif(path)
    assert s.status == OK
    assert (s.camera, s.iso, s.f_number, s.focal_mm, s.focal_35mm) == ("Acme Phone 7", 3200, 1.8, 4.2, 26)
    assert s.exposure_s == pytest.approx(1 / 15) and shutter_text(s.exposure_s) == "1/15 s"
    assert s.taken == "2026-11-30 10:14:59"  # when taken, not when last saved
    assert s.lens == "Acme back camera 4.2mm f/1.8"
    assert focal_text(s) == "4.2 mm (26 mm in 35 mm terms)"
    assert noise_hint(s) == "high: noise likely"
    assert blur_hint(s).startswith("slower than 1/26 s")


def test_a_photo_with_only_its_save_time_and_camera_still_says_when_and_which_camera(tmp_path):
    """IFD0 alone (no Exif sub-IFD: many editors write no more): the viewer's caption still gets
    when and which camera, the date as the EXIF panel says it, the maker not said twice."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Acme", "Acme Phone 7", "2026:11:30 10:15:00"
    path = tmp_path / "edited.jpg"
    path.write_bytes(photo_bytes("JPEG", exif))
    s = read_exif(path)
    assert (s.status, s.taken, s.camera, s.iso) == (OK, "2026-11-30 10:15:00", "Acme Phone 7", None)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_png_webp_and_tiff_photos_tell_their_settings_too(tmp_path, fmt):
    path = tmp_path / f"photo.{fmt.lower()}"
    path.write_bytes(photo_bytes(fmt, camera_exif()))
    s = read_exif(path)
    assert s.status == OK and s.camera == "Acme Phone 7"
    assert s.iso == (3200 if fmt != "TIFF" else None)  # Pillow writes a TIFF without the Exif sub-IFD


def test_a_bright_steady_photo_gets_no_warning_hints():
    s = CameraSettings(OK, iso=100, exposure_s=1 / 500, focal_35mm=26)
    assert noise_hint(s) == "" and blur_hint(s) == ""
    assert blur_hint(CameraSettings(OK, exposure_s=1 / 8)).startswith("slower than 1/30 s")  # focal length unknown


def test_shutter_speeds_read_as_a_camera_says_them():
    assert [shutter_text(t) for t in (1 / 4000, 1 / 250, 0.3, 0.8, 2, 30)] == \
        ["1/4000 s", "1/250 s", "1/3 s", "0.8 s", "2.0 s", "30 s"]


def test_photos_without_exif_say_so_and_unreadable_files_say_why(tmp_path):
    plain = tmp_path / "plain.png"
    plain.write_bytes(photo_bytes("PNG"))
    s = read_exif(plain)
    assert s.status == NONE and "no EXIF" in s.note
    assert read_exif(tmp_path / "gone.jpg").status == UNREADABLE
    (tmp_path / "notes.jpg").write_bytes(b"not a photo at all")
    assert read_exif(tmp_path / "notes.jpg").status == DAMAGED


def test_the_apex_values_stand_in_when_the_plain_ones_are_missing():
    exif = camera_exif()
    sub = exif.get_ifd(0x8769)
    del sub[0x829A], sub[0x829D]
    sub[0x9201], sub[0x9202] = R(8, 1), R(4, 1)  # 2^-8 s, 2^(4/2) = f/4
    s = exif_from_bytes(photo_bytes("JPEG", exif))
    assert shutter_text(s.exposure_s) == "1/256 s" and s.f_number == pytest.approx(4)


def test_impossible_values_are_left_out_not_shown(tmp_path):
    exif = camera_exif(**{"0x8827": 0, "0x829a": R(1, 0), "0x829d": R(0, 0)})
    s = exif_from_bytes(photo_bytes("JPEG", exif))
    assert s.status == OK and s.iso is None and s.exposure_s is None and s.f_number is None
    assert s.camera == "Acme Phone 7"


def test_long_texts_are_cut_and_only_the_files_head_is_read(tmp_path, monkeypatch):
    exif = camera_exif()
    exif[0x0110] = "Acme " + "x" * 20000
    path = tmp_path / "big.jpg"
    path.write_bytes(photo_bytes("JPEG", exif) + b"\0" * (8 << 20))  # 8 MB past the photo
    asked = []
    real_open = open

    def spy(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        real_read = f.read
        f.read = lambda n=-1: asked.append(n) or real_read(n)
        return f

    monkeypatch.setattr(reader, "open", spy, raising=False)
    s = read_exif(path)
    assert s.status == OK and len(s.model) == MAX_TEXT
    assert asked and all(0 < n <= reader.HEAD_BYTES for n in asked)


def _with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """The JPEG with ``payload`` as its first APP1 segment (length capped as a marker's is)."""
    payload = payload[:65533]
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _mutations(block: bytes, rng: np.random.Generator):
    """Damaged EXIF as it comes from broken tools: flipped bytes, cut and stretched blocks,
    entry counts and offsets pointing anywhere, a type of 0 or 255, random bytes behind a valid
    header."""
    data = bytearray(block)
    kind = rng.integers(0, 7)
    if kind == 0:
        for _ in range(rng.integers(1, 12)):
            data[rng.integers(6, len(data))] = rng.integers(0, 256)
    elif kind == 1:
        data = data[: rng.integers(0, len(data))]
    elif kind == 2:
        at = rng.integers(6, len(data))
        data[at:at] = rng.integers(0, 256, rng.integers(1, 4000), dtype=np.uint8).tobytes()
    elif kind == 3:  # a 16-bit field (count, type, tag) set to an extreme
        at = rng.integers(6, len(data) - 2)
        data[at:at + 2] = rng.choice([b"\xff\xff", b"\x00\x00", b"\x7f\xff", b"\x00\x01"])
    elif kind == 4:  # a 32-bit field (a count or an offset) pointing far away or at itself
        at = rng.integers(6, len(data) - 4)
        data[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x08", b"\x7f\xff\xff\xff",
                                      struct.pack(">I", at - 6), struct.pack("<I", at - 6)])
    elif kind == 5:
        data = data[:6 + 8] + bytearray(rng.integers(0, 256, rng.integers(0, 3000), dtype=np.uint8).tobytes())
    else:  # byte order swapped: every number read the other way round
        data[6:8] = b"MM" if data[6:8] == b"II" else b"II"
    return bytes(data)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*:UserWarning:PIL")  # Pillow says what it skipped
def test_mutated_exif_blocks_never_raise_never_hang_and_stay_bounded():
    jpeg = photo_bytes("JPEG")
    block = camera_exif().tobytes()
    assert block.startswith(b"Exif\x00\x00")
    assert exif_from_bytes(_with_app1(jpeg, block)).iso == 3200  # the unmutated block reads
    rng = np.random.default_rng(1234)
    slowest, seen = 0.0, set()
    for _ in range(3000):
        head = _with_app1(jpeg, _mutations(block, rng))
        started = time.perf_counter()
        s = exif_from_bytes(head)  # a raise fails the test here
        slowest = max(slowest, time.perf_counter() - started)
        assert isinstance(s, CameraSettings) and s.status in STATUSES
        for text in (s.make, s.model, s.lens, s.taken):
            assert text is None or (len(text) <= MAX_TEXT + 8 and text.isprintable())
        seen.add(s.status)
    for size in (0, 1, 2, 3, 100, 5000):  # random bytes where a photo should be
        assert exif_from_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes()).status in STATUSES
    assert slowest < 0.5, f"one damaged block took {slowest:.2f} s"
    assert OK in seen and (NONE in seen or DAMAGED in seen)  # the mutations reached both outcomes
