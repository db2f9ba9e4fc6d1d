"""Decode a photo into an RGB uint8 array the way a person sees it.

EXIF orientation is applied; grey, palette, alpha, CMYK, 16-bit, int32 and float images become
8-bit RGB. JPEGs go through a strict decoder (app.core.imageio.jpeg): damage is an error, not a grey half.
Anything that cannot be decoded raises ImageLoadError with a kind and a readable message.
"""
from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import jpeg

# Larger images are refused as likely decompression bombs (~ 16k x 12k pixels), from the header
# alone, before any pixel is decoded. This check replaces Pillow's own guard (which would stop
# some photos below our limit and word its refusal differently).
MAX_PIXELS = 200_000_000
MAX_FILE_BYTES = 1_000_000_000  # no photo file is larger; a bigger one is refused unread
# Pixels decoded at once: a 64 MP photo costs about 200 MB as RGB, and the station keeps its
# peak near 1.3 GB whatever arrives. Phones' 108 and 200 MP JPEGs are decoded at 1/2 size.
DECODE_PIXELS = 64_000_000
Image.MAX_IMAGE_PIXELS = None

try:  # HEIC/HEIF through libheif (pillow-heif); without it such photos get "unsupported"
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - the runtime requirements install it
    HEIF_SUPPORTED = False


# Formats people will drop into a folder that this program cannot decode, told apart from
# files that are no image at all: (signature test, name).
UNSUPPORTED_SIGNATURES = (
    (lambda b: b[4:8] == b"ftyp" and b[8:12] in (b"avif", b"avis"), "AVIF"),
    (lambda b: b[:4] == b"%PDF", "PDF"),
    (lambda b: b.lstrip()[:5].lower() in (b"<svg ", b"<?xml"), "SVG/XML"),
    (lambda b: b[:4] == b"\x00\x00\x00\x0cjP" or b[:4] == b"\xff\x4f\xff\x51", "JPEG 2000"),
)


def _is_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


if not HEIF_SUPPORTED:
    UNSUPPORTED_SIGNATURES += ((_is_heif, "HEIF/HEIC"),)
# Camera RAW files: recognised by name, since their headers vary by maker.
RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf"}


# A photo format's own signature on a file its decoder cannot identify: the file is that format,
# damaged in its header (a 0 x 0 JPEG, a BMP of width 0) or in a variant the decoder cannot read.
KNOWN_SIGNATURES = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"BM", "BMP"),
                    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"GIF8", "GIF"))


def known_format(data: bytes) -> str | None:
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in KNOWN_SIGNATURES if head.startswith(magic)), None)


def unsupported_format(data: bytes) -> str | None:
    head = data[:64]
    return next((name for test, name in UNSUPPORTED_SIGNATURES if test(head)), None)


class ImageLoadError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _tone_map(img: Image.Image) -> Image.Image:
    """Grey images of more than 8 bits (16-bit, int32, float32) as 8-bit grey, keeping their range:
    Pillow's own conversion clips them (a float image in 0..1 turns black, 16-bit data white)."""
    arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, peak = min(0.0, float(arr.min())), float(arr.max())
    if img.mode == "F":
        peak = 1.0 if 0.0 <= low and peak <= 1.0 else peak  # 0..1 by convention, else no declared range
    elif peak <= 255:
        peak = 255.0  # 8-bit values stored in a wider type
    elif peak <= 65535:
        peak = 65535.0  # 16-bit data
    # else: wider than 16 bits with no declared range: scaled to what is there
    top = peak if peak > low else low + 1.0
    return Image.fromarray(np.clip((arr - low) / (top - low) * 255.0 + 0.5, 0, 255).astype(np.uint8))


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        img = _tone_map(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Composite transparent pixels on white, as a viewer shows them.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img if img.mode == "RGB" else img.convert("RGB")


def exif_orientation(img: Image.Image) -> int:
    """The EXIF orientation (1-8) of an opened image; 1 when absent or unreadable. Read on its
    own because Pillow's exif_transpose also rewrites the other EXIF fields, and raises on any
    of them stored with the wrong type."""
    try:
        value = img.getexif().get(0x0112, 1)
    except Exception:  # EXIF of any shape: the picture still decodes, upright as stored
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels turned the way the EXIF orientation says a viewer shows them."""
    turned = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: a.transpose(1, 0, 2)[:, ::-1],
        7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
        8: lambda a: a.transpose(1, 0, 2)[::-1],
    }.get(orientation)
    return np.ascontiguousarray(rgb if turned is None else turned(rgb))


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, or ImageLoadError (missing / unreadable / empty / not_a_file / too_large).

    Only a regular file is read (a FIFO would block forever, a link to /dev/zero read without
    end), opened without blocking and checked again on the open descriptor, and only up to
    ``MAX_FILE_BYTES``."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ImageLoadError("missing", f"{path.name}: file not found") from None
    except IsADirectoryError:
        raise ImageLoadError("unreadable", f"{path.name}: is a folder, not a photo") from None
    except OSError as exc:
        raise ImageLoadError("unreadable", f"{path.name}: cannot read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageLoadError("unreadable", f"{path.name}: is a folder, not a photo")
        if not stat.S_ISREG(info.st_mode):
            kind = "FIFO" if stat.S_ISFIFO(info.st_mode) else "socket" if stat.S_ISSOCK(info.st_mode) else "device"
            raise ImageLoadError("not_a_file", f"{path.name}: is a {kind}, not a photo file; not read")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageLoadError("too_large", f"{path.name}: {info.st_size:,} bytes is over the "
                                              f"{MAX_FILE_BYTES:,}-byte limit for one photo")
        with os.fdopen(fd, "rb") as f:
            fd = -1  # the file object owns it now
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ImageLoadError("unreadable", f"{path.name}: cannot read ({exc.strerror})") from None
    finally:
        if fd >= 0:
            # A Ctrl+C inside fdopen can leave the descriptor already closed: the interrupt, not
            # an EBADF from here, must be what the caller sees (the CLI exits 130 on it).
            with contextlib.suppress(OSError):
                os.close(fd)
    if not data:
        raise ImageLoadError("empty", f"{path.name}: file is empty (0 bytes)")
    return data


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What a PNG's pixels need; text, colour-profile and other ancillary chunks are left behind when
# one of them is too large to read (a zTXt that inflates to 200 MB says nothing about the photo).
PNG_PIXEL_CHUNKS = (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND")


def png_pixels_only(data: bytes) -> bytes | None:
    """The PNG rebuilt from its pixel chunks alone, or None when it is not a PNG or is malformed."""
    if not data.startswith(PNG_SIGNATURE):
        return None
    out, at = [PNG_SIGNATURE], len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, end = data[at + 4:at + 8], at + 12 + length
        if end > len(data):
            return None
        if kind in PNG_PIXEL_CHUNKS:
            out.append(data[at:end])
        at = end
        if kind == b"IEND":
            return b"".join(out)
    return None


def load_rgb(path: str | Path, max_pixels: int = MAX_PIXELS, data: bytes | None = None,
             decode_pixels: int = DECODE_PIXELS) -> np.ndarray:
    """RGB uint8 array [H, W, 3] of the photo at ``path`` (or of ``data``, its bytes, already read).

    At most ``decode_pixels`` are decoded: a larger JPEG is decoded reduced by its DCT (1/2, 1/4,
    1/8), a larger photo of any other format is refused from its header, before any pixel is
    decoded (a 0.6 MB PNG can hold 14000 x 14000 pixels)."""
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    try:
        with Image.open(io.BytesIO(data)) as img:
            pixels = img.width * img.height
            if pixels > max_pixels:
                raise ImageLoadError(
                    "too_large",
                    f"{path.name}: {img.width}x{img.height} is over the {max_pixels // 1_000_000} MP limit",
                )
            if img.format == "JPEG":
                orientation = exif_orientation(img)  # in the header, before the pixels
                rgb = _load_jpeg(path, data, img, decode_pixels)
            elif pixels > decode_pixels:
                raise ImageLoadError(
                    "too_large", f"{path.name}: a {img.format} of {img.width}x{img.height} is over the "
                    f"{decode_pixels / 1e6:.0f} MP that are decoded at once, to bound the memory used (only JPEGs are "
                    "read reduced)")
            else:
                img.load()  # before the EXIF: a PNG's may follow its pixels, and reading it decodes them
                orientation = exif_orientation(img)
                rgb = np.asarray(_to_rgb(img))
            return apply_orientation(rgb, orientation)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        if HEIF_SUPPORTED and _is_heif(data[:64]):
            raise ImageLoadError("corrupt", f"{path.name}: damaged HEIF/HEIC data (libheif cannot decode it)") from None
        fmt = unsupported_format(data) or ("camera RAW" if path.suffix.lower() in RAW_SUFFIXES else None)
        if fmt:
            raise ImageLoadError("unsupported", f"{path.name}: {fmt} photos are not supported; convert to JPEG, PNG or TIFF") from None
        if (named := known_format(data)) == "TIFF":
            raise ImageLoadError("unsupported", f"{path.name}: a TIFF of a kind the decoder cannot read (floating-point "
                                                "colour samples, say); save it as an 8- or 16-bit TIFF") from None
        if named:
            raise ImageLoadError("corrupt", f"{path.name}: a {named} whose header is damaged (a size of 0, say), so "
                                            "its picture cannot be read") from None
        raise ImageLoadError("not_an_image", f"{path.name}: not an image (its content is no photo format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError("too_large", f"{path.name}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        pixels_only = png_pixels_only(data) if "decompressed data too large" in str(exc).lower() else None
        if pixels_only is not None and pixels_only != data:  # an oversized text chunk, not damage
            return load_rgb(path, max_pixels, pixels_only, decode_pixels)
        if "truncated" in str(exc).lower() or "premature end" in str(exc).lower():
            raise ImageLoadError("truncated", f"{path.name}: the file ends early (still being written, or cut off)") from None
        raise ImageLoadError("corrupt", f"{path.name}: damaged image data ({exc})") from None
    except MemoryError:
        raise ImageLoadError("too_large", f"{path.name}: not enough memory to decode it") from None
    except Exception as exc:  # a decoder's own failure on odd data (TIFF tags of the wrong type,
        # libheif's limits, found by fuzzing): this photo's status, never an escape from load_rgb
        if "security limit" in str(exc).lower():
            raise ImageLoadError("too_large", f"{path.name}: over the HEIF decoder's size limits ({exc})") from None
        raise ImageLoadError("corrupt", f"{path.name}: damaged image data ({type(exc).__name__}: {exc})") from None


def _load_jpeg(path: Path, data: bytes, img: Image.Image, decode_pixels: int) -> np.ndarray:
    """A JPEG's pixels through the strict decoder (app.core.imageio.jpeg), reduced when over budget."""
    factor = jpeg.reduction(img.width * img.height, decode_pixels)
    if factor == 0:
        raise ImageLoadError("too_large", f"{path.name}: {img.width}x{img.height} is too large even at 1/8 size")
    try:
        if img.mode == "CMYK":  # libjpeg-turbo has no CMYK to RGB: check strictly, convert with Pillow
            jpeg.check(data, img.height, img.width)
            if factor > 1:
                img.draft("CMYK", (img.width // factor, img.height // factor))
            return np.asarray(img.convert("RGB"))
        return jpeg.decode(data, img.height, img.width, factor)
    except jpeg.JpegTruncated:
        raise ImageLoadError("truncated", f"{path.name}: the file ends early (still being written, or cut off)") from None
    except jpeg.JpegDamaged as exc:
        raise ImageLoadError("damaged", f"{path.name}: damaged JPEG data ({exc}); part of the picture is "
                                        "missing or scrambled, so it is not scored") from None


def load_preview_rgb(path: str | Path, data: bytes, side: int = 256) -> np.ndarray:
    """A small RGB preview (long side about ``side``) of a photo already known to decode: JPEGs
    are decoded reduced by their DCT (``draft``), so a 12 MP photo costs milliseconds."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            orientation = exif_orientation(img)
            img.draft("RGB", (side, side))
            img.thumbnail((side, side))
            return apply_orientation(np.asarray(_to_rgb(img)), orientation)
    except Exception as exc:  # it decoded when it was scored; now it does not: say so
        raise ImageLoadError("corrupt", f"{Path(path).name}: preview failed ({exc})") from None


def load_what_decodes(path: str | Path, decode_pixels: int = DECODE_PIXELS) -> np.ndarray | None:
    """What a damaged or cut-off photo still shows, for the viewer only (never scored): a JPEG
    decodes up to where it stops (the rest grey). None when nothing decodes. The memory bound is
    load_rgb's: sized from the header first, a JPEG over ``decode_pixels`` decoded reduced by its
    DCT, any other format over it (or over MAX_PIXELS) not decoded at all."""
    import cv2

    try:
        raw = read_bytes(path)
        with Image.open(io.BytesIO(raw)) as img:
            pixels, is_jpeg = img.width * img.height, img.format == "JPEG"
    except Exception:  # no header to size it by: nothing is decoded blind
        return None
    if pixels > MAX_PIXELS or (pixels > decode_pixels and not is_jpeg):
        return None
    factor = jpeg.reduction(pixels, decode_pixels) if is_jpeg else 1
    flags = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
             8: cv2.IMREAD_REDUCED_COLOR_8}.get(factor)
    if flags is None:
        return None
    try:
        bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), flags)
        if bgr is None and raw[:2] == b"\xff\xd8":  # a JPEG cut off: close it, libjpeg greys the rest
            bgr = cv2.imdecode(np.frombuffer(raw + b"\xff\xd9", np.uint8), flags)
    except cv2.error:
        return None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
