"""The shipped model's verdicts mean what an inspector means, at the default thresholds.

The photo is the bundled sample (Kodak 23, 768 x 512), which the model's synthetic ladders were
made from, so this guards the property against regressions; the held-out figures (13 photos of
2.5-20 MP never trained on, native and 1024 px) come from ``bench/verdict_table.py``.
"""
import cv2
import numpy as np
import pytest

from app.core.scoring.engine import Engine
from app.core.imageio.decode import load_rgb
from app.core.model.loader import load_model
from app.core.paths import default_model_dir, resources_dir
from app.core.verdict import FAIL, PASS, Thresholds
from training.data.heavy_damage import DAMAGE, saved_as_jpeg


@pytest.fixture(scope="module")
def scored():
    engine = Engine(load_model(default_model_dir() / "mobileiqa-student.onnx", threads=1))
    return lambda rgb: engine.score(np.ascontiguousarray(rgb)).score


@pytest.fixture(scope="module")
def sample():
    return load_rgb(resources_dir() / "samples" / "parrots_kodak23.png")


def test_the_clean_sample_passes(scored, sample):
    assert Thresholds().verdict(scored(sample)) == PASS


# Known gaps of v0.7.0 (issue 20), strict: the test says so the day they are fixed.
NOT_YET_FAILED = {"JPEG q8": "44 on this photo: REVIEW",
                  "2 stops over": "the exposure reader fails 2 stops over on 28 % of photos it never saw, not on this one"}


@pytest.mark.parametrize("damage", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=NOT_YET_FAILED[k])) if k in NOT_YET_FAILED else k
    for k in DAMAGE if k != "clean"])
def test_damage_an_inspector_rejects_at_a_glance_fails(scored, sample, damage):
    score = scored(DAMAGE[damage](sample))
    assert Thresholds().verdict(score) == FAIL, f"{damage}: {score:.1f}"


def test_a_large_damaged_area_lowers_the_score_and_never_raises_it(scored, sample):
    clean = scored(sample)
    for damage in ("blur sigma 4", "noise sigma 25"):
        damaged = sample.copy()
        h, w = sample.shape[:2]
        damaged[:, : w // 2] = DAMAGE[damage](sample)[:, : w // 2]  # the left half of the photo
        assert scored(damaged) < clean - 5, damage



@pytest.fixture(scope="module")
def engine():
    return Engine(load_model(default_model_dir() / "mobileiqa-student.onnx", threads=1))


def bars_or_fence(seed: int, height: int = 1800, width: int = 2400) -> np.ndarray:
    """A sharp 4-MP photo whose edges run in one orientation: bars of seeded widths and colours
    at a seeded angle (a barcode, cables, blinds seen close) or upright slats before a plain wall
    (a fence, shelving), with a camera's softness (Gaussian sigma up to 1 px) and noise (sd up to 6)."""
    rng = np.random.default_rng(seed)
    if seed % 3 == 0:
        wall = rng.integers(40, 220, (height // 200, width // 200, 3), dtype=np.uint8)
        photo = cv2.resize(wall, (width, height), interpolation=cv2.INTER_CUBIC)
        pitch = int(rng.integers(30, 90))
        slat, colour = int(rng.integers(pitch // 4, 3 * pitch // 4)), rng.integers(0, 256, 3)
        for left in range(int(rng.integers(0, pitch)), width, pitch):
            photo[:, left:left + slat] = colour
    else:
        side = int(1.5 * max(height, width))  # turned, the square still covers the photo
        photo = np.full((side, side, 3), int(rng.integers(30, 200)), np.uint8)
        for _ in range(side // 6):
            left, bar, top = int(rng.integers(0, side)), int(rng.integers(3, 15)), int(rng.integers(0, side // 2))
            photo[top:, left:left + bar] = rng.integers(0, 256, 3)
        turn = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.choice([0, 30, 45, 60, 90, 120, 135])), 1.0)
        photo = cv2.warpAffine(photo, turn, (side, side), flags=cv2.INTER_LINEAR)
        top, left = (side - height) // 2, (side - width) // 2
        photo = photo[top:top + height, left:left + width]
    photo = cv2.GaussianBlur(photo, (0, 0), float(rng.uniform(0.05, 1.0)))
    return np.clip(photo + rng.normal(0.0, float(rng.uniform(0.0, 6.0)), photo.shape), 0, 255).astype(np.uint8)


def test_the_blurred_copy_of_a_photo_of_bars_or_a_fence_fails(engine):
    for seed in range(10_000, 10_012):
        blurred = engine.score(saved_as_jpeg(DAMAGE["blur sigma 4"](bars_or_fence(seed))))
        assert blurred.sharpness_capped and Thresholds().verdict(blurred.score) == FAIL, seed


@pytest.mark.xfail(strict=True, reason=(
    "known gap of v0.7.0 (issue 20): the sharpness reader reads edges of one orientation as shake and caps "
    "8 of these 12 sharp photos below 40; orientation-binned measures, monotone heads and generated photos "
    "in its ladders did not mend it in a logistic head (closing note of 2026-12-07, eleventh stop)"))
def test_a_sharp_photo_of_bars_or_a_fence_is_not_failed_for_blur(engine):
    capped = {seed: round(result.score, 1) for seed in range(10_000, 10_012)
              if (result := engine.score(saved_as_jpeg(bars_or_fence(seed)))).sharpness_capped}
    assert not capped, f"capped: {capped}"
