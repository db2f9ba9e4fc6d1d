"""The photos a trunk cache holds (``training.stage_top``): each row a description and a loader.

Rated photos as the overview reads them; synthetic ladders of clean photos (every level of every
damage kind, seeded so a rebuilt cache holds the same copies) at the overview's size, or cut into
the tiles the detail reader reads.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from app.core.imageio.decode import load_rgb
from app.core.scoring.reading import detail_boxes, overview

from ..stage_joint import load_splits
from .heavy_damage import saved_as_jpeg
from .hires import split_hires
from .mixed import list_images
from .rated_sets import RatedSet
from .synthetic import DISTORTIONS, LEVELS, distort

log = logging.getLogger(__name__)


def rated_rows(sets: list[RatedSet], cfg: dict, side: int):
    """(description, load) of every rated photo, marked with the joint stage's own split."""
    train, val = load_splits(sets, cfg)
    for split, items in (("train", train), ("val", val)):
        for it in items:
            yield ({"image": it.image, "dataset": it.dataset, "subset": it.subset, "mos": it.mos, "split": split},
                   lambda path=it.image: overview(load_rgb(path), side))


def ladder_rows(pristine: list[Path], side: int, seed: int = 0):
    """(description, load) of each clean photo read at the overview's size and of its copies at
    every level of every damage kind (seeded, so a rebuilt cache holds the same copies)."""
    for n, path in enumerate(list_images(pristine)):
        cache: dict = {}

        def clean(path=path, cache=cache):
            if "rgb" not in cache:
                cache["rgb"] = overview(load_rgb(path), side)
            return cache["rgb"]

        yield {"photo": path.name, "kind": "", "level": 0}, clean
        for k, kind in enumerate(DISTORTIONS):
            for level in LEVELS:
                rng = np.random.default_rng([seed, n, k, level])
                yield ({"photo": path.name, "kind": kind, "level": level},
                       lambda kind=kind, level=level, rng=rng, clean=clean: distort(clean(), kind, level, rng))


def tile_rows(photos: list[Path], tile: int, count: int, seed: int = 0, margin: int = 32, sides: tuple[int, ...] = (0,),
              saved_quality: tuple[int, int] | None = None):
    """(description, load) of the tiles the detail reader cuts from each clean photo
    (``reading.detail_boxes``) and of their copies at every level of every damage kind, with the
    photo at each of ``sides`` (its long side; 0: native; sides the photo does not exceed are
    skipped): a photo handed in reduced is read by the same tiles, and must pass when clean too.
    Damage is applied to the tile with a margin of the photo around it (blur reaches across the
    tile's edge, as it would in the whole damaged photo), then the margin is cut off. With
    ``saved_quality`` (lowest, highest) every copy, the clean one too, is then saved as a JPEG at
    a seeded quality in that range, as the photos users score are."""
    for n, (path, side) in enumerate((p, side) for p in photos for side in sides):
        state: dict = {}  # the photo is decoded once for all its tiles

        def photo(path=path, side=side, state=state):
            if "rgb" not in state:
                state["rgb"] = overview(load_rgb(path), side) if side else load_rgb(path)
            return state["rgb"]

        try:
            h, w = photo().shape[:2]
        except Exception as exc:  # an unreadable photo gives no tiles, and stops nothing
            log.warning("skipped %s: %s", path, exc)
            continue
        if side and (max(h, w) < side or side <= tile):
            continue  # not reduced at this side: its native tiles are already there
        for b, (top, left, th, tw) in enumerate(detail_boxes(h, w, tile, count)):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1, x1 = min(h, top + th + margin), min(w, left + tw + margin)
            name = f"{path.name}@{side or 'native'}#{b}"

            def cut(rgb, top=top, left=left, th=th, tw=tw, y0=y0, x0=x0):
                return rgb[top - y0: top - y0 + th, left - x0: left - x0 + tw]

            def around(y0=y0, y1=y1, x0=x0, x1=x1, photo=photo):
                return photo()[y0:y1, x0:x1]

            yield ({"photo": name, "kind": "", "level": 0},
                   lambda around=around, cut=cut, key=(seed, n, b, 0, 0): cut(_saved(around(), saved_quality, key)))
            for k, kind in enumerate(DISTORTIONS):
                for level in LEVELS:
                    rng = np.random.default_rng([seed, n, b, k, level])
                    yield ({"photo": name, "kind": kind, "level": level},
                           lambda kind=kind, level=level, rng=rng, around=around, cut=cut, key=(seed, n, b, k + 1, level):
                           cut(_saved(distort(np.ascontiguousarray(around()), kind, level, rng), saved_quality, key)))


def _saved(rgb: np.ndarray, quality: tuple[int, int] | None, key: tuple[int, ...]) -> np.ndarray:
    """``rgb`` saved as a JPEG at a quality in ``quality`` (lowest, highest) seeded by the row's
    ``key`` (a rebuilt cache holds the same copies); as it is without ``quality``."""
    if quality is None:
        return rgb
    return saved_as_jpeg(rgb, np.random.default_rng(list(key)).integers(quality[0], quality[1] + 1))


def training_pristine(kodak: list[Path], hires: list[Path], seed: int = 0) -> list[Path]:
    """Kodak and the training half of the high-resolution photos (the other half stays held out
    for the verdict and scale benchmarks, the same seeded split as every stage)."""
    train, _ = split_hires(hires, seed=seed) if hires else ([], [])
    return list_images(kodak) + train
