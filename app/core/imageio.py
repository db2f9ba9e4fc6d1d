"""Decode a photo into an RGB uint8 array the way a person sees it.

EXIF orientation is applied; grey, palette, alpha, CMYK and 16-bit images become 8-bit RGB.
Anything that cannot be decoded raises ImageLoadError with a kind and a readable message.
"""
from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Larger images are refused as likely decompression bombs (~ 16k x 12k pixels), from the header
# alone, before any pixel is decoded. This check replaces Pillow's own guard (which would stop
# some photos below our limit and word its refusal differently).
MAX_PIXELS = 200_000_000
MAX_FILE_BYTES = 1_000_000_000  # no photo file is larger; a bigger one is refused unread
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


def unsupported_format(data: bytes) -> str | None:
    head = data[:64]
    return next((name for test, name in UNSUPPORTED_SIGNATURES if test(head)), None)


class ImageLoadError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit grey: scale the full range to 8 bits instead of clipping at 255.
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Composite transparent pixels on white, as a viewer shows them.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return img.convert("RGB")


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
            os.close(fd)
    if not data:
        raise ImageLoadError("empty", f"{path.name}: file is empty (0 bytes)")
    return data


def load_rgb(path: str | Path, max_pixels: int = MAX_PIXELS, data: bytes | None = None) -> np.ndarray:
    """RGB uint8 array [H, W, 3] of the photo at ``path`` (or of ``data``, its bytes, already read)."""
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_pixels:
                raise ImageLoadError(
                    "too_large",
                    f"{path.name}: {img.width}x{img.height} is over the {max_pixels // 1_000_000} MP limit",
                )
            img = ImageOps.exif_transpose(img)
            return np.ascontiguousarray(np.asarray(_to_rgb(img)))
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        if HEIF_SUPPORTED and _is_heif(data[:64]):
            raise ImageLoadError("corrupt", f"{path.name}: damaged HEIF/HEIC data (libheif cannot decode it)") from None
        fmt = unsupported_format(data) or ("camera RAW" if path.suffix.lower() in RAW_SUFFIXES else None)
        if fmt:
            raise ImageLoadError("unsupported", f"{path.name}: {fmt} photos are not supported; convert to JPEG, PNG or TIFF") from None
        raise ImageLoadError("not_an_image", f"{path.name}: not an image (its content is no photo format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError("too_large", f"{path.name}: refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if "truncated" in str(exc).lower() or "premature end" in str(exc).lower():
            raise ImageLoadError("truncated", f"{path.name}: the file ends early (still being written, or cut off)") from None
        raise ImageLoadError("corrupt", f"{path.name}: damaged image data ({exc})") from None


def load_preview_rgb(path: str | Path, data: bytes, side: int = 256) -> np.ndarray:
    """A small RGB preview (long side about ``side``) of a photo already known to decode: JPEGs
    are decoded reduced by their DCT (``draft``), so a 12 MP photo costs milliseconds."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (side, side))
            img = ImageOps.exif_transpose(img)
            img.thumbnail((side, side))
            return np.ascontiguousarray(np.asarray(_to_rgb(img)))
    except Exception as exc:  # it decoded when it was scored; now it does not: say so
        raise ImageLoadError("corrupt", f"{Path(path).name}: preview failed ({exc})") from None


def exif_summary(path: str | Path) -> dict[str, str]:
    """Capture time and camera from the photo's EXIF, where present (never raises)."""
    try:
        with Image.open(path) as img:
            exif = img.getexif()
            sub = exif.get_ifd(0x8769)  # the Exif sub-IFD holds DateTimeOriginal
            when = sub.get(0x9003) or exif.get(0x0132)
            make, model = str(exif.get(0x010F, "")).strip(), str(exif.get(0x0110, "")).strip()
    except Exception:  # EXIF of any shape: a summary is a nicety, never a failure
        return {}
    out = {}
    if when:
        out["taken"] = str(when).strip()
    camera = model if make and model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    if camera:
        out["camera"] = camera
    return out


def load_what_decodes(path: str | Path) -> np.ndarray | None:
    """What a damaged or cut-off photo still shows, for the viewer only (never scored): a JPEG
    decodes up to where it stops (the rest grey). None when nothing decodes."""
    import cv2

    try:
        raw = read_bytes(path)
        bgr = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None and raw[:2] == b"\xff\xd8":  # a JPEG cut off: close it, libjpeg greys the rest
            bgr = cv2.imdecode(np.frombuffer(raw + b"\xff\xd9", np.uint8), cv2.IMREAD_COLOR)
    except (ImageLoadError, cv2.error):
        return None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
