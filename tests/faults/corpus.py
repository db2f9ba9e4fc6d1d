"""The corpus of odd and damaged files, written by code into a folder, and what each must give.

Every file is made here at run time (the repository holds no binary samples of damage), and
each builder checks that its file really has the property the case is about, so a case can
never pass vacuously (an EXIF tag that Pillow dropped, a scan without the marker...).

A FileCase goes through load_rgb and score_photo in the worker (``tests.faults.worker``) and is
judged by ``expect``: None when right, else what is wrong. Cases that need the real CLI, a
database or a measurement live in ``scenarios.py``.
"""
from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .common import REPO, photo

SAMPLE = REPO / "resources" / "samples" / "parrots_kodak23.png"


@dataclass(frozen=True)
class FileCase:
    name: str  # also the file's name (bytes for a name that is not UTF-8)
    cls: int  # the fault class of the issue it guards
    build: Callable[[Path], None]  # writes the file at the given path
    expect: Callable[[dict], str | None]  # judges the worker's answer
    model: str = "tiny"  # "bundled" where the verdict matters
    filename: bytes | None = None  # a name that is not valid UTF-8


# --- EXIF of the wrong type ------------------------------------------------------------------

def exif_block(odd_tag: int, odd_type: int = 2, odd_value: bytes = b"abc\0", orientation: int = 6,
               next_ifd: int = 0) -> bytes:
    """A little-endian TIFF header with IFD0 = {orientation, odd_tag stored as odd_type}."""
    entries = sorted([(0x0112, 3, 1, struct.pack("<HH", orientation, 0)),
                      (odd_tag, odd_type, len(odd_value) if odd_type == 2 else 1, odd_value.ljust(4, b"\0")[:4])])
    body = b"".join(struct.pack("<HHI", t, ty, n) + v for t, ty, n, v in entries)
    return b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(entries)) + body + struct.pack("<I", next_ifd)


def jpeg_bytes(rgb: np.ndarray, **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", **kw)
    return buf.getvalue()


def with_app1(jpeg: bytes, tiff: bytes) -> bytes:
    payload = b"Exif\0\0" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _check_exif(path: Path, tag: int) -> None:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        assert isinstance(im.getexif().get(tag), str), f"{path.name}: tag {tag:#x} did not survive as text"


def build_exif_jpeg(tag: int, **kw) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(with_app1(jpeg_bytes(photo(60, 80, 3)), exif_block(tag, **kw)))
        if kw.get("odd_type", 2) == 2 and not kw.get("next_ifd"):
            _check_exif(path, tag)
    return build


def build_exif_other(fmt: str, tag: int) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from PIL import Image

        Image.fromarray(photo(60, 80, 4)).save(path, fmt, exif=exif_block(tag))
        _check_exif(path, tag)
    return build


# --- damaged JPEGs ----------------------------------------------------------------------------

def scan_range(data: bytes) -> tuple[int, int]:
    """Start and end of the (first) entropy-coded scan: after the SOS header, before EOI."""
    sos = data.find(b"\xff\xda")
    start = sos + 2 + struct.unpack(">H", data[sos + 2:sos + 4])[0]
    return start, data.rfind(b"\xff\xd9")


def photo_jpeg(**kw) -> bytes:
    """The Kodak sample (a real photo, 768x512) as a JPEG: the model's verdict on it means something."""
    from PIL import Image

    with Image.open(SAMPLE) as im:
        buf = io.BytesIO()
        im.convert("RGB").save(buf, "JPEG", quality=92, **kw)
    return buf.getvalue()


def build_early_eoi(path: Path) -> None:
    data = photo_jpeg()
    start, end = scan_range(data)
    cut = start + int((end - start) * 0.4)
    while data[cut - 1] == 0xFF:  # never split a stuffed 0xFF00
        cut += 1
    path.write_bytes(data[:cut] + b"\xff\xd9" + data[cut:])


def build_flipped_entropy(path: Path) -> None:
    data = bytearray(photo_jpeg())
    start, end = scan_range(bytes(data))
    rng = random.Random(5)
    middle = start + (end - start) // 2
    for i in range(middle, middle + 96):  # a scrambled run, as a bad copy leaves it; no new markers
        if data[i] != 0xFF and data[i - 1] != 0xFF:
            data[i] = rng.choice([b for b in range(256) if b != 0xFF])
    path.write_bytes(bytes(data))


def build_cut_scan(path: Path) -> None:
    data = photo_jpeg()
    start, end = scan_range(data)
    path.write_bytes(data[:start + int((end - start) * 0.6)])


# --- tone mapping -----------------------------------------------------------------------------

def _gradient(h: int = 192, w: int = 256) -> np.ndarray:
    """0..1 across, with a darker band: a picture with every level, not a flat field."""
    yy, xx = np.mgrid[0:h, 0:w]
    g = xx / (w - 1) * (0.6 + 0.4 * np.cos(yy / 15.0) ** 2)
    return g.astype(np.float64)


def build_tiff(kind: str) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        from PIL import Image

        g = _gradient()
        if kind == "float32":
            im = Image.fromarray(g.astype(np.float32), mode="F")
        elif kind == "float32_hdr":  # no declared range: radiance-like values up to 1000
            im = Image.fromarray((g * 1000).astype(np.float32), mode="F")
        elif kind == "int32":
            im = Image.fromarray((g * (2**31 - 1)).astype(np.int32), mode="I")
        else:  # 16-bit
            im = Image.fromarray((g * 65535).astype(np.uint16))
        im.save(path, "TIFF")
        with Image.open(path) as back:
            assert back.mode == {"float32": "F", "float32_hdr": "F", "int32": "I"}.get(kind, back.mode), back.mode
    return build


# --- judging ------------------------------------------------------------------------------------

def crashed(ans: dict) -> str | None:
    """Crash / hang text for the answer, or None (both judged apart from wrong results)."""
    if ans.get("hang"):
        return "hang"
    if ans.get("died"):
        return f"worker died (exit {ans.get('rc')}): {ans.get('stderr')}"
    if "exc" in ans:
        return ans["exc"]
    return None


def scored(ans: dict) -> str | None:
    """Right when the photo was scored (a fine photo with odd metadata must still be)."""
    return None if ans.get("status") == "ok" else f"not scored: {ans.get('status')}: {ans.get('error')}"


def not_scored_whole(ans: dict) -> str | None:
    """Right when a damaged photo got a status of its own and no verdict, least of all a pass."""
    if ans.get("status") == "ok":
        return f"damaged file scored as whole: score {ans.get('score'):.1f}, verdict {ans.get('verdict')}"
    if ans.get("verdict") == "pass":
        return "damaged file has verdict pass"
    return None


def has_status(ans: dict) -> str | None:
    return None if ans.get("status") and ans["status"] != "ok" else f"status {ans.get('status')!r}"


def toned(ans: dict) -> str | None:
    """Right when a high-bit-depth picture decodes with its levels (not black, not clipped white)."""
    if ans.get("load") != "ok":
        return f"not decoded: {ans.get('load')}"
    if ans["std"] < 20 or ans["black"] > 0.3 or ans["white"] > 0.3:
        return (f"tone-mapped wrong: std {ans['std']:.0f}, {ans['black']:.0%} black, {ans['white']:.0%} white "
                "(a gradient over the whole range should show every level)")
    return None


def build_png16(path: Path) -> None:
    from PIL import Image

    Image.fromarray((_gradient() * 65535).astype(np.uint16)).save(path)


def build_plain_jpeg(**kw) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        path.write_bytes(photo_jpeg(**kw))
    return build


def build_restart_jpeg(path: Path) -> None:
    import cv2

    bgr = cv2.imread(str(SAMPLE))
    path.write_bytes(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_RST_INTERVAL, 4])[1].tobytes())


def build_plain(path: Path) -> None:
    path.write_bytes(jpeg_bytes(photo(60, 80, 7)))


FILE_CASES: list[FileCase] = [
    # class 1: exceptions escaping load_rgb / score_photo
    FileCase("exif_fillorder_ascii.jpg", 1, build_exif_jpeg(0x010A), scored),
    FileCase("exif_xposition_ascii.jpg", 1, build_exif_jpeg(0x011E), scored),
    FileCase("exif_fillorder_ascii.png", 1, build_exif_other("PNG", 0x010A), scored),
    FileCase("exif_xposition_ascii.webp", 1, build_exif_other("WEBP", 0x011E), scored),
    FileCase("exif_ifd_loop.jpg", 1, build_exif_jpeg(0x010F, next_ifd=8), scored),  # IFD0 links back to itself
    FileCase("exif_xposition_long.jpg", 1, build_exif_jpeg(0x011E, odd_type=4, odd_value=struct.pack("<I", 7)), scored),
    FileCase("name_not_utf8", 1, build_plain, has_status, filename=b"\xff\xfe.jpg"),
    # class 5: damaged JPEGs never scored as whole (the shipped model, so "pass" is a real verdict)
    FileCase("jpeg_early_eoi.jpg", 5, build_early_eoi, not_scored_whole, model="bundled"),
    FileCase("jpeg_flipped_entropy.jpg", 5, build_flipped_entropy, not_scored_whole, model="bundled"),
    FileCase("jpeg_cut_scan.jpg", 5, build_cut_scan, not_scored_whole, model="bundled"),
    # ... and intact ones still scored: a strict decoder must not refuse good photos
    FileCase("jpeg_intact_baseline.jpg", 5, build_plain_jpeg(), scored, model="bundled"),
    FileCase("jpeg_intact_progressive.jpg", 5, build_plain_jpeg(progressive=True), scored, model="bundled"),
    FileCase("jpeg_intact_restart_markers.jpg", 5, build_restart_jpeg, scored, model="bundled"),
    # class 9: high bit depths tone-mapped, not black or clipped white
    FileCase("tiff_float32.tif", 9, build_tiff("float32"), toned),
    FileCase("tiff_float32_hdr.tif", 9, build_tiff("float32_hdr"), toned),
    FileCase("tiff_int32.tif", 9, build_tiff("int32"), toned),
    FileCase("tiff_uint16.tif", 9, build_tiff("uint16"), toned),
    FileCase("png_uint16.png", 9, build_png16, toned),
]


def file_path(folder: Path, case: FileCase) -> Path:
    if case.filename is not None:
        return Path(os.fsdecode(os.fsencode(folder) + b"/" + case.filename))
    return folder / case.name


def build_corpus(folder: Path, cases: list[FileCase] | None = None) -> dict[str, Path]:
    """Write every file case into ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for case in cases or FILE_CASES:
        path = file_path(folder, case)
        case.build(path)
        out[case.name] = path
    return out


def png_of_size(path: Path, width: int, height: int) -> int:
    """A real, fully decodable RGB PNG of any size, streamed row by row (never held in memory):
    the first row a gradient, every other row "same as above" (filter Up, all zeros), so a
    14000 x 14000 picture compresses to well under 1 MB. Returns the file size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    first = bytes([0]) + bytes((x * 7 + c * 40) % 256 for x in range(width) for c in range(3))
    up = bytes([2]) + bytes(3 * width)
    comp = zlib.compressobj(9)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", comp.compress(first)))
        for _ in range(height - 1):
            block = comp.compress(up)
            if block:
                f.write(chunk(b"IDAT", block))
        f.write(chunk(b"IDAT", comp.flush()) + chunk(b"IEND", b""))
    return path.stat().st_size
