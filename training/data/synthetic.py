"""Synthetic distortions of pristine photos: 14 types x 5 levels, globally or inside a region.

They teach what human MOS on authentic photos cannot: that each distortion lowers quality more
the stronger it is (ranking targets), and where a local defect sits (the region's mask is the
distortion map's target). Every function is deterministic for a given numpy Generator.
Level 1 is mild, level 5 severe; all images are RGB uint8.
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

LEVELS = (1, 2, 3, 4, 5)


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


def gaussian_blur(img, level, rng):
    sigma = (0.8, 1.5, 2.5, 4.0, 6.0)[level - 1]
    return cv2.GaussianBlur(img, (0, 0), sigma)


def motion_blur(img, level, rng):
    length = (5, 9, 15, 23, 33)[level - 1]
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    angle = float(rng.uniform(0, 180))
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    kernel /= max(kernel.sum(), 1e-8)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)


def defocus_blur(img, level, rng):
    radius = (1.5, 2.5, 4, 6, 9)[level - 1]
    size = _odd(2 * radius + 1)
    yy, xx = np.mgrid[:size, :size] - size // 2
    disk = (xx**2 + yy**2 <= radius**2).astype(np.float32)
    return cv2.filter2D(img, -1, disk / disk.sum(), borderType=cv2.BORDER_REFLECT)


def gaussian_noise(img, level, rng):
    sigma = (5, 10, 18, 30, 48)[level - 1]
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def poisson_noise(img, level, rng):
    # Fewer photons per grey level = more shot noise.
    photons = (60, 25, 10, 4, 1.5)[level - 1]
    return np.clip(rng.poisson(img.astype(np.float64) / 255 * 255 * photons) / photons, 0, 255).astype(np.uint8)


def impulse_noise(img, level, rng):
    fraction = (0.005, 0.015, 0.04, 0.08, 0.15)[level - 1]
    out = img.copy()
    hit = rng.random(img.shape[:2]) < fraction
    out[hit] = np.where(rng.random((int(hit.sum()), 1)) < 0.5, 0, 255)
    return out


def codec_round_trip(img, ext, params):
    ok, buf = cv2.imencode(ext, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {ext}")
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def jpeg(img, level, rng):
    return codec_round_trip(img, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, (50, 25, 12, 6, 2)[level - 1]])


def webp(img, level, rng):
    return codec_round_trip(img, ".webp", [cv2.IMWRITE_WEBP_QUALITY, (40, 15, 6, 2, 1)[level - 1]])


def overexposure(img, level, rng):
    gain = (1.3, 1.6, 2.0, 2.6, 3.4)[level - 1]
    return np.clip(img.astype(np.float32) * gain + 10 * level, 0, 255).astype(np.uint8)


def underexposure(img, level, rng):
    gain = (0.7, 0.5, 0.33, 0.2, 0.1)[level - 1]
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def contrast_loss(img, level, rng):
    keep = (0.7, 0.5, 0.33, 0.2, 0.1)[level - 1]
    mean = img.reshape(-1, 3).mean(0)
    return np.clip(mean + (img.astype(np.float32) - mean) * keep, 0, 255).astype(np.uint8)


def desaturation(img, level, rng):
    keep = (0.6, 0.4, 0.2, 0.1, 0.0)[level - 1]
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] *= keep
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def pixelation(img, level, rng):
    factor = (3, 5, 8, 12, 18)[level - 1]
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def resampling(img, level, rng):
    factor = (2, 3, 4, 6, 9)[level - 1]
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


DISTORTIONS: dict[str, Callable[[np.ndarray, int, np.random.Generator], np.ndarray]] = {
    f.__name__: f
    for f in (
        gaussian_blur, motion_blur, defocus_blur, gaussian_noise, poisson_noise, impulse_noise, jpeg,
        webp, overexposure, underexposure, contrast_loss, desaturation, pixelation, resampling,
    )
}


def distort(img: np.ndarray, kind: str, level: int, rng: np.random.Generator) -> np.ndarray:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level}")
    try:
        fn = DISTORTIONS[kind]
    except KeyError:
        raise ValueError(f"unknown distortion {kind!r}; known: {', '.join(DISTORTIONS)}") from None
    return fn(np.ascontiguousarray(img), level, rng)


def region_mask(h: int, w: int, rng: np.random.Generator, min_frac: float = 0.1, max_frac: float = 0.35) -> np.ndarray:
    """A random rectangle or ellipse covering ``min_frac``-``max_frac`` of the image; float32 0/1."""
    area = rng.uniform(min_frac, max_frac) * h * w
    aspect = rng.uniform(0.5, 2.0)
    rh = int(min(h, max(8, np.sqrt(area / aspect))))
    rw = int(min(w, max(8, area / max(rh, 1))))
    top = int(rng.integers(0, h - rh + 1))
    left = int(rng.integers(0, w - rw + 1))
    mask = np.zeros((h, w), np.float32)
    if rng.random() < 0.5:
        mask[top : top + rh, left : left + rw] = 1
    else:
        cv2.ellipse(mask, (left + rw // 2, top + rh // 2), (rw // 2, rh // 2), 0, 0, 360, 1.0, -1)
    return mask


def distort_region(img: np.ndarray, kind: str, level: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(image distorted inside a random region only, that region's mask)."""
    mask = region_mask(*img.shape[:2], rng)
    damaged = distort(img, kind, level, rng)
    m = mask[..., None]
    return (damaged * m + img * (1 - m)).astype(np.uint8), mask
