"""The camera settings a photo was taken with, from its EXIF: what the EXIF panel shows, and
the when and the camera in the viewer's caption (the program's one EXIF reader).

ISO and shutter speed explain most of the noise and the blur an inspector sees, so they are
read first-class, with plain hints (``noise_hint``, ``blur_hint``) beside them.

EXIF is written by thousands of cameras and apps, and damaged by as many tools: ``read_exif``
never raises, whatever the bytes. It is bounded too: it reads at most ``HEAD_BYTES`` of the file
(a JPEG's EXIF is one APP1 segment of at most 64 KiB near its start; PNG's eXIf and WebP's EXIF
chunks sit in their headers), never decodes pixels, and every text it returns is cut to
``MAX_TEXT`` characters (a maker's comment can be 64 KiB). A value out of any camera's range (ISO
0, a shutter of a year, an f-number of 0/0) is left out rather than shown as a fact.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

HEAD_BYTES = 256 * 1024
MAX_TEXT = 120
# Formats the reader opens: those a station photographs in. Fewer parsers, less to go wrong.
FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")  # a multi-picture JPEG (MPO) opens as JPEG

EXIF_IFD = 0x8769  # the sub-IFD with the exposure tags
MAKE, MODEL, DATE_TIME = 0x010F, 0x0110, 0x0132
EXPOSURE_TIME, F_NUMBER, ISO = 0x829A, 0x829D, 0x8827
DATE_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
SHUTTER_SPEED_VALUE, APERTURE_VALUE = 0x9201, 0x9202  # APEX: used only when the plain tags are absent
FOCAL_LENGTH, FOCAL_LENGTH_35MM = 0x920A, 0xA405
LENS_MAKE, LENS_MODEL = 0xA433, 0xA434

# Plain rules of thumb, said as likelihoods: from ISO 1600 a phone's or a compact's sensor noise
# is plainly visible; hand-held, a shutter slower than 1/(35 mm focal length) s, or 1/30 s when
# the focal length is unknown, risks shake blur.
HIGH_ISO = 1600
HAND_HELD_SLOWEST = 1 / 30

# Statuses: "ok" (camera settings found), "none" (no EXIF), "damaged" (EXIF present, unreadable),
# "unreadable" (the file itself could not be read).
OK, NONE, DAMAGED, UNREADABLE = "ok", "none", "damaged", "unreadable"


@dataclass(frozen=True)
class CameraSettings:
    status: str = NONE
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    iso: int | None = None
    exposure_s: float | None = None
    f_number: float | None = None
    focal_mm: float | None = None
    focal_35mm: int | None = None
    taken: str | None = None
    note: str = ""  # why nothing was found, in words

    @property
    def camera(self) -> str | None:
        """Make and model as one name ("Canon EOS R6", not "Canon Canon EOS R6")."""
        make, model = self.make or "", self.model or ""
        if make and model.lower().startswith(make.lower()):
            return model
        return f"{make} {model}".strip() or None


def read_exif(path: str | Path) -> CameraSettings:
    """The camera settings recorded in the photo at ``path``; never raises."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError as exc:
        return CameraSettings(UNREADABLE, note=f"the file cannot be read ({exc.strerror or type(exc).__name__})")
    return exif_from_bytes(head)


def exif_from_bytes(head: bytes) -> CameraSettings:
    """``read_exif`` on the first bytes of a file (all of them, or ``HEAD_BYTES``)."""
    try:
        exif = _exif_of(head)
    except Exception:  # a header no parser accepts: the EXIF, if any, cannot be reached
        return CameraSettings(DAMAGED, note="the file's header could not be read")
    if exif is None or not len(exif):
        return CameraSettings(NONE, note="no EXIF in this photo: the camera settings were not recorded, "
                                         "or were removed when it was edited or sent")
    try:
        sub = exif.get_ifd(EXIF_IFD)
    except Exception:  # IFD0 (camera, date) still shows without the exposure sub-IFD
        sub = {}

    def tag(number):
        try:
            value = sub.get(number)
            return exif.get(number) if value is None else value
        except Exception:
            return None

    try:
        settings = CameraSettings(
            OK,
            make=_text(tag(MAKE)),
            model=_text(tag(MODEL)),
            lens=_lens(_text(tag(LENS_MAKE)), _text(tag(LENS_MODEL))),
            iso=_iso(tag(ISO)),
            exposure_s=_in_range(_number(tag(EXPOSURE_TIME)), 1e-6, 3600)
            or _apex_time(_number(tag(SHUTTER_SPEED_VALUE))),
            f_number=_in_range(_number(tag(F_NUMBER)), 0.5, 128) or _apex_aperture(_number(tag(APERTURE_VALUE))),
            focal_mm=_in_range(_number(tag(FOCAL_LENGTH)), 0.1, 10000),
            focal_35mm=_whole(_in_range(_number(tag(FOCAL_LENGTH_35MM)), 1, 10000)),
            taken=_taken(_text(tag(DATE_TIME_ORIGINAL)) or _text(tag(DATE_TIME)), _text(tag(OFFSET_TIME_ORIGINAL))),
        )
    except Exception:  # belt and braces: each helper already refuses what it cannot read
        return CameraSettings(DAMAGED, note="the EXIF is damaged and could not be read")
    if settings == CameraSettings(OK):
        return CameraSettings(NONE, note="the EXIF records no camera settings")
    return settings


def _exif_of(head: bytes):
    """The EXIF of a file's first bytes, parsed without decoding pixels; None when it has none."""
    with Image.open(io.BytesIO(head), formats=FORMATS) as img:
        raw = img.info.get("exif")  # JPEG APP1, PNG eXIf (before the pixels), WebP EXIF chunk
        if isinstance(raw, (bytes, bytearray)) and raw:
            exif = Image.Exif()
            exif.load(bytes(raw))
            return exif
        if img.format == "TIFF":  # a TIFF's EXIF is its own first IFD, already parsed on open
            return img.getexif()
    return None


def _first(value):
    if isinstance(value, (tuple, list)):
        return value[0] if value else None
    return value


def _number(value) -> float | None:
    value = _first(value)
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _in_range(value: float | None, low: float, high: float) -> float | None:
    return value if value is not None and low <= value <= high else None


def _whole(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def _iso(value) -> int | None:
    number = _in_range(_number(value), 1, 10_000_000)
    return None if number is None else int(round(number))


def _apex_time(value: float | None) -> float | None:
    if value is None or not -12 <= value <= 20:  # 2^12 s (an hour) to 1/1,000,000 s
        return None
    return 2.0 ** -value


def _apex_aperture(value: float | None) -> float | None:
    if value is None or not 0 <= value <= 14:  # f/1 to f/128
        return None
    return 2.0 ** (value / 2)


def _text(value) -> str | None:
    """Printable text, cut to MAX_TEXT; None for empty or binary values."""
    value = _first(value) if isinstance(value, (tuple, list)) else value
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: MAX_TEXT * 4]).decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(c for c in value[: MAX_TEXT * 4] if c.isprintable()).strip()
    if not cleaned or cleaned.count("\ufffd") > len(cleaned) // 2:
        return None
    return cleaned[:MAX_TEXT]


def _lens(make: str | None, model: str | None) -> str | None:
    if make and model and not model.lower().startswith(make.lower()):
        return f"{make} {model}"
    return model or make


def _taken(when: str | None, offset: str | None) -> str | None:
    """EXIF's "2026:11:30 10:15:00" as "2026-11-30 10:15:00" (its time zone when recorded)."""
    if not when:
        return None
    if len(when) >= 10 and when[4] == ":" and when[7] == ":":
        when = f"{when[:4]}-{when[5:7]}-{when[8:]}"
    return f"{when} {offset}" if offset else when


def shutter_text(seconds: float) -> str:
    """'1/250 s', '1/3 s', '0.8 s', '2 s': as a camera says it."""
    if seconds < 1 and 1 / seconds >= 1.5:
        return f"1/{round(1 / seconds)} s"
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def aperture_text(f_number: float) -> str:
    return f"f/{f_number:.2g}" if f_number < 10 else f"f/{f_number:.0f}"


def focal_text(settings: CameraSettings) -> str | None:
    parts = []
    if settings.focal_mm is not None:
        parts.append(f"{settings.focal_mm:.3g} mm")
    if settings.focal_35mm is not None:
        parts.append(f"{settings.focal_35mm} mm in 35 mm terms")
    if len(parts) == 2:
        return f"{parts[0]} ({parts[1]})"
    return parts[0] if parts else None


def noise_hint(settings: CameraSettings) -> str:
    if settings.iso is None:
        return ""
    return "high: noise likely" if settings.iso >= HIGH_ISO else ""


def blur_hint(settings: CameraSettings) -> str:
    """Said when the shutter was slower than a hand-held camera holds still."""
    if settings.exposure_s is None:
        return ""
    slowest = 1 / settings.focal_35mm if settings.focal_35mm else HAND_HELD_SLOWEST
    if settings.exposure_s <= slowest:
        return ""
    return f"slower than {shutter_text(slowest)}: shake blur likely if hand-held"
