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
from training.data.few_orientations import few_orientations_photo
from training.data.heavy_damage import DAMAGE, saved_as_jpeg


@pytest.fixture(scope="module")
def engine():
    return Engine(load_model(default_model_dir() / "mobileiqa-student.onnx", threads=1))


@pytest.fixture(scope="module")
def scored(engine):
    return lambda rgb: engine.score(np.ascontiguousarray(rgb)).score


@pytest.fixture(scope="module")
def sample():
    return load_rgb(resources_dir() / "samples" / "parrots_kodak23.png")


def test_the_clean_sample_passes(scored, sample):
    assert Thresholds().verdict(scored(sample)) == PASS


# Known gaps of v0.7.2 (issue 20), strict: the test says so the day they are fixed.
NOT_YET_FAILED = {"JPEG q8": "50 on this photo: REVIEW (v0.7.1: 44)",
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


def test_a_clean_photo_keeps_its_score_at_every_size_larger_than_the_view(scored, sample):
    """The scale property: the sample and its reductions to 640 and 560 px (all larger than the
    512-px view, so the detail reader reads each) score within 3 points of each other. v0.7.1's
    rule (the worse reader weighing 0.75) spread them over 4.5 points: the detail network's opinion
    of a clean photo moves with the size its tiles are cut from."""
    h, w = sample.shape[:2]
    scores = [scored(cv2.resize(sample, (side, round(h * side / w)), interpolation=cv2.INTER_AREA) if side < w else sample)
              for side in (w, 640, 560)]
    assert max(scores) - min(scores) <= 3, [round(s, 1) for s in scores]


@pytest.fixture(scope="module")
def bars_and_fences(engine):
    """12 sharp 4-MP photos of bars and fences (edges of one orientation; no reader was fitted on
    these seeds) and their copies blurred by sigma 4 px, scored by the shipped model."""
    photos = [few_orientations_photo(seed) for seed in range(10_000, 10_012)]
    return ([engine.score(saved_as_jpeg(p)) for p in photos],
            [engine.score(saved_as_jpeg(DAMAGE["blur sigma 4"](p))) for p in photos])


def test_a_sharp_photo_of_bars_or_a_fence_is_not_capped_for_blur(bars_and_fences):
    """Edges of one orientation are no shake: v0.7.0's sharpness reader capped 8 of these 12 below
    40 (a sharp fence at 0.0); v0.7.1 reads each orientation apart."""
    clean, _ = bars_and_fences
    capped = {k: round(r.score, 1) for k, r in enumerate(clean) if r.sharpness_capped}
    assert not capped, f"capped: {capped}"


def test_a_blurred_photo_of_bars_or_a_fence_never_passes(bars_and_fences):
    """... and scores at least 10 below its sharp original, unless that already fails: three of these
    photos have stripes too fine for the 512-px overview, which sees them as grey mush (17-35, as a
    person viewing the whole photo at that size would), and the detail reader only ever lowers a score."""
    clean, blurred = bars_and_fences
    for k, (sharp, soft) in enumerate(zip(clean, blurred)):
        assert Thresholds().verdict(soft.score) != PASS, k
        if Thresholds().verdict(sharp.score) != FAIL:
            assert soft.score < sharp.score - 10, k
    assert sum(Thresholds().verdict(r.score) != FAIL for r in clean) >= 9


@pytest.mark.xfail(strict=True, reason=(
    "known gap of v0.7.2 (issue 20): 3 of these 12 blurred copies are REVIEW, not FAIL; the sharpness "
    "reader, fitted on scenes, does not cap blurred ideal bars, whose steps stay steeper than a scene's, "
    "and the networks score them 53-60"))
def test_a_blurred_photo_of_bars_or_a_fence_fails(bars_and_fences):
    _, blurred = bars_and_fences
    assert all(Thresholds().verdict(r.score) == FAIL for r in blurred), [round(r.score, 1) for r in blurred]
