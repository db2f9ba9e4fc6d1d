"""Mutation fuzzer: small valid photos of every supported format, damaged in many small ways.

Seeds are made here by code (never committed binaries). A mutant is a pure function of
(format, index, run seed), so a failure found in a long run is reproduced by its numbers alone:
``mutant("JPEG", 4711, 0)``. The operators mix blind damage (bit flips, inserts, deletes,
truncation) with format-aware damage (segment, chunk and box length fields, image dimensions,
markers in the scan), because blind flips rarely get past a header and never reach the decoders'
deep paths.
"""
from __future__ import annotations

import io
import random
import struct
import zlib
from functools import cache

import numpy as np

# Formats the app decodes, with the file suffix a mutant is written under.
FORMATS = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "BMP": ".bmp", "GIF": ".gif", "HEIC": ".heic"}


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    """A small photo-like picture: smooth gradients, an edge and some noise (what codecs expect)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(xx / (5 + seed % 4)), 64 + yy * 2.5, 200 - xx * 1.5], axis=-1)
    base[h // 3: h // 2, w // 4: w // 2] = (240, 30, 30)
    return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)


def _save(img, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _jpeg_seeds(rgb) -> list[bytes]:
    import cv2
    from PIL import Image

    im = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated, so the orientation path is always walked
    exif[0x010F] = "FaultCam"
    ok, rst = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 2])  # restart markers
    return [
        _save(im, "JPEG", quality=85),
        _save(im, "JPEG", quality=70, progressive=True),
        _save(im.convert("L"), "JPEG", quality=90),
        _save(im, "JPEG", quality=80, exif=exif.tobytes(), subsampling=0),
        _save(im.convert("CMYK"), "JPEG", quality=85),
        rst.tobytes(),
    ]


def _png_seeds(rgb) -> list[bytes]:
    from PIL import Image

    im = Image.fromarray(rgb)
    exif = Image.Exif()
    exif[0x0112] = 3
    grey16 = Image.fromarray((rgb[..., 0].astype(np.uint16) * 257))
    rgba = Image.fromarray(np.dstack([rgb, rgb[..., 1]]))
    pal = im.quantize(32)
    pal.info["transparency"] = 0
    return [_save(im, "PNG"), _save(rgba, "PNG"), _save(pal, "PNG", transparency=0), _save(grey16, "PNG"),
            _save(im.convert("LA"), "PNG"), _save(im, "PNG", exif=exif.tobytes(), compress_level=1)]


def _tiff_seeds(rgb) -> list[bytes]:
    from PIL import Image

    im = Image.fromarray(rgb)
    grey = rgb[..., 1].astype(np.float64) / 255
    return [
        _save(im, "TIFF"),
        _save(im, "TIFF", compression="tiff_lzw"),
        _save(im, "TIFF", compression="jpeg"),
        _save(im, "TIFF", compression="tiff_adobe_deflate", tile=(16, 16)),
        _save(Image.fromarray((grey * 65535).astype(np.uint16)), "TIFF"),  # 16-bit
        _save(Image.fromarray(grey.astype(np.float32), mode="F"), "TIFF"),  # float32
        _save(Image.fromarray((grey * 2**31 * 0.99).astype(np.int32), mode="I"), "TIFF"),  # int32
        _save(im.convert("CMYK"), "TIFF"),
    ]


def _webp_seeds(rgb) -> list[bytes]:
    from PIL import Image

    im = Image.fromarray(rgb)
    rgba = Image.fromarray(np.dstack([rgb, rgb[..., 2]]))
    return [_save(im, "WEBP", quality=80), _save(im, "WEBP", lossless=True), _save(rgba, "WEBP", quality=70)]


def _bmp_seeds(rgb) -> list[bytes]:
    from PIL import Image

    im = Image.fromarray(rgb)
    return [_save(im, "BMP"), _save(im.quantize(16), "BMP"), _save(im.convert("L"), "BMP"), _save(im.convert("1"), "BMP")]


def _gif_seeds(rgb) -> list[bytes]:
    from PIL import Image

    im = Image.fromarray(rgb)
    frames = [im.quantize(64), Image.fromarray(rgb[::-1].copy()).quantize(64)]
    return [_save(im.quantize(128), "GIF"),
            _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)]


def _heic_seeds(rgb) -> list[bytes]:
    from PIL import Image

    import pillow_heif

    pillow_heif.register_heif_opener()
    im = Image.fromarray(rgb)
    return [_save(im, "HEIF", quality=70), _save(im.convert("RGBA"), "HEIF", quality=50)]


@cache
def seeds(fmt: str) -> tuple[bytes, ...]:
    """The valid files the mutants of ``fmt`` start from (two sizes each: odd sizes find
    rounding bugs in subsampled codecs)."""
    makers = {"JPEG": _jpeg_seeds, "PNG": _png_seeds, "TIFF": _tiff_seeds, "WEBP": _webp_seeds,
              "BMP": _bmp_seeds, "GIF": _gif_seeds, "HEIC": _heic_seeds}
    out = []
    for h, w, s in ((48, 64, 1), (37, 53, 2)):
        out += makers[fmt](_photo(h, w, s))
    return tuple(out)


def available_formats() -> list[str]:
    """Formats whose seeds can be written here (HEIC needs pillow-heif with an encoder)."""
    ok = []
    for fmt in FORMATS:
        try:
            seeds(fmt)
        except Exception:  # e.g. no HEIF encoder: that format is left out, and the table says so
            continue
        ok.append(fmt)
    return ok


# --- where the length and size fields are, per format ---------------------------------------

def _jpeg_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, width) of each segment's 2-byte length, and SOF's height/width, up to the scan."""
    fields, i = [], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        fields.append((i + 2, 2))
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2) and i + 9 <= len(data):
            fields += [(i + 5, 2), (i + 7, 2)]  # height, width
        if marker == 0xDA:
            break
        i += 2 + length
    return fields


def _png_fields(data: bytes) -> list[tuple[int, int]]:
    fields, i = [], 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        fields.append((i, 4))
        if data[i + 4:i + 8] == b"IHDR":
            fields += [(i + 8, 4), (i + 12, 4), (i + 16, 1), (i + 17, 1)]  # width, height, depth, colour
        i += 12 + length
    return fields


def _tiff_fields(data: bytes) -> list[tuple[int, int]]:
    if data[:2] not in (b"II", b"MM"):
        return []
    bo = "<" if data[:2] == b"II" else ">"
    fields = [(4, 4)]  # the first IFD's offset
    off = struct.unpack(bo + "I", data[4:8])[0]
    if off + 2 > len(data):
        return fields
    n = struct.unpack(bo + "H", data[off:off + 2])[0]
    fields.append((off, 2))
    for k in range(min(n, 64)):
        e = off + 2 + 12 * k
        if e + 12 > len(data):
            break
        fields += [(e + 2, 2), (e + 4, 4), (e + 8, 4)]  # type, count, value / offset
    return fields


def _riff_fields(data: bytes) -> list[tuple[int, int]]:
    fields, i = [(4, 4)], 12
    while i + 8 <= len(data):
        fields.append((i + 4, 4))
        if data[i:i + 4] == b"VP8X":
            fields += [(i + 12, 3), (i + 15, 3)]  # canvas width-1, height-1
        i += 8 + struct.unpack("<I", data[i + 4:i + 8])[0] + 1 & ~1
    return fields


def _bmp_fields(data: bytes) -> list[tuple[int, int]]:
    # file size, pixel offset, header size, width, height, planes, bits, compression, image size, colours
    return [(2, 4), (10, 4), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2), (30, 4), (34, 4), (46, 4)]


def _gif_fields(data: bytes) -> list[tuple[int, int]]:
    fields = [(6, 2), (8, 2), (10, 1)]  # screen width, height, flags (colour table size)
    i = data.find(b"\x2c", 13)
    if i > 0 and i + 10 <= len(data):
        fields += [(i + 1, 2), (i + 3, 2), (i + 5, 2), (i + 7, 2), (i + 9, 1)]  # frame box, flags
    return fields


def _box_fields(data: bytes) -> list[tuple[int, int]]:
    """ISO BMFF (HEIC) box sizes, top level and one level into meta."""
    fields, i = [], 0
    while i + 8 <= len(data):
        size = struct.unpack(">I", data[i:i + 4])[0]
        fields.append((i, 4))
        if data[i + 4:i + 8] == b"meta":
            j = i + 12
            while j + 8 <= min(len(data), i + size):
                fields.append((j, 4))
                inner = struct.unpack(">I", data[j:j + 4])[0]
                if inner < 8:
                    break
                j += inner
        if size < 8:
            break
        i += size
    return fields


FIELDS = {"JPEG": _jpeg_fields, "PNG": _png_fields, "TIFF": _tiff_fields, "WEBP": _riff_fields,
          "BMP": _bmp_fields, "GIF": _gif_fields, "HEIC": _box_fields}
INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF, 0x8000, 0xFFFFFFFF, 0x7FFFFFFF, 0x10000, 60000)


# --- operators: each takes (rng, bytearray, fmt) and edits the bytearray ----------------------

def _bitflip(rng, b, fmt):
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)


def _byteset(rng, b, fmt):
    for _ in range(rng.randint(1, 4)):
        b[rng.randrange(len(b))] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01, rng.randrange(256)))


def _insert(rng, b, fmt):
    i = rng.randrange(len(b) + 1)
    b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))


def _delete(rng, b, fmt):
    i = rng.randrange(len(b))
    del b[i:i + rng.randint(1, 64)]


def _truncate(rng, b, fmt):
    del b[rng.randrange(len(b)):]


def _duplicate(rng, b, fmt):
    i = rng.randrange(len(b))
    block = b[i:i + rng.randint(1, 256)]
    j = rng.randrange(len(b) + 1)
    b[j:j] = block


def _length_edit(rng, b, fmt):
    """Set a length / size / dimension field to a boundary value, or nudge it."""
    fields = [(o, w) for o, w in FIELDS[fmt](bytes(b)) if o + w <= len(b)]
    if not fields:
        return _bitflip(rng, b, fmt)
    off, width = rng.choice(fields)
    bo = "<" if fmt in ("BMP", "GIF", "WEBP") or (fmt == "TIFF" and b[:2] == b"II") else ">"
    old = int.from_bytes(b[off:off + width], "little" if bo == "<" else "big")
    new = rng.choice((rng.choice(INTERESTING), old + rng.randint(-16, 16), old * rng.choice((2, 16, 256)),
                      rng.randrange(1 << (8 * width))))
    b[off:off + width] = (new % (1 << (8 * width))).to_bytes(width, "little" if bo == "<" else "big")


def _marker(rng, b, fmt):
    """JPEG: an end, start or table marker where the scan should be; elsewhere a byte run."""
    if fmt == "JPEG":
        sos = bytes(b).find(b"\xff\xda")
        lo = sos + 4 if sos > 0 else 2
        i = rng.randrange(lo, max(lo + 1, len(b)))
        b[i:i] = rng.choice((b"\xff\xd9", b"\xff\xd8", b"\xff\xc4\x00\x03\x00", b"\xff\xda\x00\x02", b"\xff\xd3", b"\xff"))
    else:
        i = rng.randrange(len(b))
        b[i:i + 8] = bytes([rng.choice((0, 0xFF))]) * 8


def _scramble(rng, b, fmt):
    """A run of random bytes in the body: what a bad sector or a broken copy leaves."""
    start = rng.randrange(len(b) // 4, max(len(b) // 4 + 1, len(b) - 1))
    for i in range(start, min(len(b), start + rng.randint(4, 128))):
        b[i] = rng.randrange(256)


OPERATORS = (_bitflip, _byteset, _insert, _delete, _truncate, _duplicate, _length_edit, _length_edit,
             _marker, _scramble)


def _fix_png_crcs(b: bytearray) -> None:
    """Recompute every PNG chunk CRC, so the damage gets past the CRC check into the decoder."""
    i = 8
    while i + 12 <= len(b):
        length = struct.unpack(">I", b[i:i + 4])[0]
        end = i + 8 + length
        if end + 4 > len(b):
            break
        b[end:end + 4] = struct.pack(">I", zlib.crc32(bytes(b[i + 4:end])) & 0xFFFFFFFF)
        i = end + 4


def mutant(fmt: str, index: int, run_seed: int = 0) -> bytes:
    """Mutant number ``index`` of format ``fmt``: one of its seeds with 1-3 operators applied."""
    rng = random.Random(f"{fmt}:{index}:{run_seed}")
    pool = seeds(fmt)
    b = bytearray(pool[index % len(pool)])
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        if not b:
            break
        rng.choice(OPERATORS)(rng, b, fmt)
    if fmt == "PNG" and rng.random() < 0.6:
        _fix_png_crcs(b)
    return bytes(b)


# Mutants that broke the app once, kept as regression cases (run by --quick and CI, which do
# not reach these indices): (format, index, run seed). Found by the first full run; they are
# rebuilt from the seeds above, so a new encoder version may turn them into other files.
KNOWN_FINDS = [
    ("TIFF", 327, 0),  # a tag of the wrong type (str) reaches Pillow's tile set-up: TypeError
    ("TIFF", 2520, 0),  # the same with bytes
    ("TIFF", 6472, 0),  # the same with a float
    ("HEIC", 695, 0),  # libheif's security limit (4294967295 x 4294967295): RuntimeError
    ("HEIC", 1812, 0),
    ("HEIC", 2753, 0),
    ("HEIC", 7600, 0),
]


# --- the parent's side: mutants through the worker, judged -----------------------------------

RSS_LIMIT_MB = 1500  # one mutant that makes the worker peak above this is a memory fault (class 7)


def judge_mutant(ans: dict) -> tuple[str, str] | None:
    """(column, why) when the answer is a fault, else None."""
    import math

    if ans.get("hang"):
        return "hangs", "no answer within the time limit"
    if ans.get("died"):
        return "crashes", f"worker died (exit {ans.get('rc')}): {ans.get('stderr')}"
    if "exc" in ans:
        return "crashes", ans["exc"]
    if "bad_array" in ans:
        return "wrong", f"load_rgb returned {ans['bad_array']}"
    if ans.get("status") == "ok":
        score = ans.get("score")
        if not isinstance(score, float | int) or not math.isfinite(score) or not 0 <= score <= 100:
            return "wrong", f"stored score {score!r}"
        if ans.get("load") != "ok":
            return "wrong", f"scored although load_rgb says {ans.get('load')}"
    return None


def run_known_find(worker, fmt: str, index: int, run_seed: int = 0, timeout: float = 10.0):
    """One mutant of KNOWN_FINDS as its own case."""
    from .common import Outcome

    o = Outcome(f"mutant_{fmt}_{index}", "fuzz regressions")
    try:
        ans = worker.ask({"op": "fuzz", "fmt": fmt, "index": index, "seed": run_seed}, timeout)
    except RuntimeError as exc:
        return o.note("crashes", str(exc))
    fault = judge_mutant(ans)
    if fault:
        o.note(fault[0], f"mutant({fmt!r}, {index}, {run_seed}): {fault[1]}")
    return o


def run_fuzz(ctx, worker, fmt: str, count: int, run_seed: int = 0, timeout: float = 10.0):
    """``count`` mutants of ``fmt`` through ``worker`` (a common.WorkerClient); an Outcome whose
    details name each faulty mutant by the numbers that rebuild it."""
    import time

    from .common import Outcome

    o = Outcome(f"fuzz {fmt} x{count}", f"fuzz {fmt}", cases=count)
    statuses: dict[str, int] = {}
    start = time.monotonic()
    for index in range(count):
        try:
            ans = worker.ask({"op": "fuzz", "fmt": fmt, "index": index, "seed": run_seed}, timeout)
        except RuntimeError as exc:  # no worker at all: one crash says so, the rest is not tried
            o.note("crashes", f"{exc}")
            o.cases = index + 1
            break
        fault = judge_mutant(ans)
        key = ans.get("status") or ("hang" if ans.get("hang") else "died" if ans.get("died") else "?")
        statuses[key] = statuses.get(key, 0) + 1
        if fault is None and ans.get("rss_mb", 0) > RSS_LIMIT_MB:
            fault = "wrong", f"worker peak RSS {ans['rss_mb']:.0f} MB > {RSS_LIMIT_MB} MB"
            worker.restart()  # a fresh process, so its peak says something about the next mutant
        if fault:
            o.note(fault[0], f"mutant({fmt!r}, {index}, {run_seed}): {fault[1]}")
    spent = time.monotonic() - start
    shown = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items(), key=lambda kv: -kv[1]))
    o.info = f"{count} mutants in {spent:.0f} s ({1000 * spent / max(1, count):.1f} ms each): {shown}"
    return o
