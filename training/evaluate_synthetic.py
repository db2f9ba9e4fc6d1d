"""Does a model behave sensibly beyond its MOS data? Two checks on pristine photos:

- monotonicity: for every photo and distortion type, the score should fall as the level rises
  (pristine counts as level 0); reported as the fraction of level pairs in the right order;
- localisation: with one region distorted, the distortion map should be higher inside it;
  reported as the AUROC of the map (upsampled to the photo) against the region's mask.

The model is run as the app runs it (ONNX through app.core.engine). Photos are center-cropped
to ``crop`` pixels to bound the cost; the crop is not resized. With ``native`` the map is the
native-resolution maps the viewer shows (``app.core.native_maps``): the damage as the score
counts it (detail tiles and overview weighted as in the score; ``auroc``) and the plain map of
the tiles (``auroc_tiles``: the detail network's damage head where it has one), not the
overview's map: the check for photos larger than the viewing size.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import rankdata

from app.core.scoring.engine import Engine
from app.core.imageio.decode import load_rgb
from app.core.model.loader import load_model
from app.core.scoring.native_maps import native_maps

from .data.mixed import list_images
from .data.synthetic import DISTORTIONS, LEVELS, distort, distort_region


def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve via the Mann-Whitney U statistic (ties get half credit)."""
    labels = labels.astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def center_crop(rgb: np.ndarray, size: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return rgb[top : top + size, left : left + size]


def evaluate_synthetic(model_path: Path, folders: list[Path], crop: int = 512, region_levels=(3, 5), seed: int = 0,
                       native: bool = False) -> dict:
    engine = Engine(load_model(model_path))
    rng = np.random.default_rng(seed)
    photos = [center_crop(load_rgb(p), crop) for p in list_images(folders)]
    judged_maps = ("auroc", "auroc_tiles") if native else ("auroc",)
    pairs: dict[str, float] = {}  # kind -> share of level pairs in the right order
    cases: dict[str, list[tuple[str, int, float]]] = {m: [] for m in judged_maps}  # (kind, photo, AUROC)
    for kind in sorted(DISTORTIONS):
        right = total = 0
        for k, photo in enumerate(photos):
            scores = [engine.score(photo).score]
            scores += [engine.score(distort(photo, kind, lv, rng)).score for lv in LEVELS]
            for i, j in combinations(range(len(scores)), 2):  # i milder than j
                right += scores[i] > scores[j]
                total += 1
            for lv in region_levels:
                img, mask = distort_region(photo, kind, lv, rng)
                result = engine.score(img)
                if native:
                    maps = native_maps(engine, img, result)
                    damage = {"auroc": maps.in_score, "auroc_tiles": maps.tiles}
                else:
                    damage = {"auroc": result.distortion}
                for name, values in damage.items():
                    cases[name].append((kind, k, _map_auroc(values, mask)))
        pairs[kind] = right / total
    per_kind = {kind: {"monotone_pairs": share} | {m: float(np.nanmean([v for kd, _, v in cases[m] if kd == kind]))
                                                   for m in judged_maps}
                for kind, share in pairs.items()}
    report = {
        "photos": len(photos),
        "crop": crop,
        "map": "native, as the score counts it (overview + detail tiles)" if native else "overview",
        "monotone_pairs": float(np.mean(list(pairs.values()))),
    }
    for m in judged_maps:
        report[m] = float(np.mean([v[m] for v in per_kind.values()]))
        report[f"{m}_ci95"] = photo_interval([[v for _, k, v in cases[m] if k == i] for i in range(len(photos))])
    return report | {"per_kind": per_kind}


def photo_interval(by_photo: list[list[float]], n: int = 2000, seed: int = 0) -> list[float]:
    """95 % bootstrap interval of the mean over photos resampled with replacement (a photo's
    cases share its content, so the photo is the unit that varies, not the case)."""
    means = np.array([np.nanmean(v) for v in by_photo if v])
    if len(means) < 2:
        return [float("nan"), float("nan")]
    draws = np.random.default_rng(seed).choice(means, (n, len(means))).mean(1)
    return [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def _map_auroc(damage: np.ndarray, mask: np.ndarray) -> float:
    """AUROC of a map (upsampled to the photo) against the damaged region's mask."""
    up = cv2.resize(damage, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_LINEAR)
    return auroc(up.ravel(), mask.ravel() > 0.5)
