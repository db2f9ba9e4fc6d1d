"""The sharpness reader a card may carry: it fails a large photo blurred or shaken past what an
inspector accepts at 100 %, leaves its clean original and photos no larger than the viewing size
alone, never raises a score, and a bad block is refused."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.core.model.contract import SHARPNESS_BY_DIRECTION, ModelError, model_identity
from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from app.core.scoring.reading import Reading
from app.core.scoring.sharpness import SharpnessReader, features_by_direction, sharpness_features
from app.core.verdict import FAIL, Thresholds
from tests.conftest import copy_with_reading
from training.data.heavy_damage import DAMAGE, saved_as_jpeg
from training.sharpness_reader import fit_reader, ladder_features, reader_view


def textured(h: int, w: int, seed: int) -> np.ndarray:
    """A photo with detail everywhere: patches of colour with sharp edges, and fine texture."""
    rng = np.random.default_rng(seed)
    patches = cv2.resize(rng.integers(0, 256, (h // 40, w // 40, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    grain = cv2.GaussianBlur(rng.normal(0, 40, (h, w)).astype(np.float32), (0, 0), 0.8)[..., None]
    return np.clip(patches.astype(np.float32) * 0.7 + 40 + grain, 0, 255).astype(np.uint8)


def test_blur_flattens_the_steepest_edges_and_shake_flattens_them_along_its_direction():
    rgb = textured(1200, 1600, 0)
    reading = Reading()
    clean, blurred, shaken = (sharpness_features(reader_view(saved_as_jpeg(DAMAGE[k](rgb)), reading))
                              for k in ("clean", "blur sigma 4", "motion 15 px"))
    assert clean[1] > 2 * blurred[1]  # the 99th percentile step over the local range
    assert shaken[3] < 0.5 * clean[3]  # the weakest orientation's 99th percentile ...
    assert shaken[5] > clean[5] + 0.3  # ... falls far below the strongest one's


@pytest.fixture(scope="module")
def reader():
    """A reader fitted on ladders of generated photos (the command's own fit)."""
    photos = [lambda s=s: textured(600, 800, s) for s in range(6)]
    reader, report = fit_reader(ladder_features(photos, Reading()))
    assert report["rows"] == 6 * len(report["cross_validated"])
    return reader


def _with_reader(exported_student, tmp_path: Path, block) -> Path:
    return copy_with_reading(exported_student, tmp_path, sharpness=block)


def test_a_large_photo_blurred_or_shaken_fails_and_its_clean_original_is_left_alone(exported_student, tmp_path, reader):
    plain = Engine(load_model(exported_student[1]))
    engine = Engine(load_model(_with_reader(exported_student, tmp_path, reader.to_card())))
    photo = textured(1000, 1400, 99)  # never in the ladders
    clean = engine.score(saved_as_jpeg(photo))
    assert clean.sharpness.probability < reader.onset and not clean.sharpness_capped
    assert clean.score == pytest.approx(plain.score(saved_as_jpeg(photo)).score)
    for damage in ("blur sigma 4", "motion 15 px"):
        before = plain.score(saved_as_jpeg(DAMAGE[damage](photo)))
        after = engine.score(saved_as_jpeg(DAMAGE[damage](photo)))
        assert Thresholds().verdict(after.score) == FAIL, f"{damage}: {after.score:.1f} (p {after.sharpness.probability:.2f})"
        assert after.score <= before.score and after.raw_score == after.score
        assert after.sharpness_capped == (after.sharpness.score < before.score)


def test_a_photo_no_larger_than_the_viewing_size_is_not_read_for_sharpness(exported_student, tmp_path, reader):
    engine = Engine(load_model(_with_reader(exported_student, tmp_path, reader.to_card())))
    small = saved_as_jpeg(DAMAGE["blur sigma 4"](textured(384, 512, 7)))
    result = engine.score(small)
    assert result.sharpness is None and not result.sharpness_capped


def test_a_card_with_a_sharpness_reader_is_another_model(exported_student, tmp_path, reader):
    card = load_model(_with_reader(exported_student, tmp_path, reader.to_card())).card
    assert model_identity(card) != model_identity(json.loads(exported_student[2].read_text()))
    assert SharpnessReader.from_card(card).onset == reader.onset


def _block(**change):
    block = {"features": "edge steps per local range in four directions, 64 tiles of 128 px", "center": [0.0] * 8, "scale": [1.0] * 8,
             "weights": [0.0] * 8, "bias": -5.0, "onset": 0.3}
    return {k: v for k, v in (block | change).items() if v is not None}


@pytest.mark.parametrize("block, said", [
    ("yes", "must be an object"),
    (_block(features="edge steps per local range in four directions, 64 tiles of 96 px"), "features must be"),
    (_block(center=[0.0] * 7), "center must hold 8 numbers"),
    (_block(weights=[0.0] * 7 + [float("nan")]), "weights must hold 8 numbers"),
    (_block(scale=[1.0] * 7 + [0.0]), "scale must hold positive numbers"),
    (_block(bias="high"), "bias must be a number"),
    (_block(bias=None), "bias must be a number"),
    (_block(onset=1.0), "onset must be a number"),
])
def test_a_card_with_a_broken_sharpness_reader_is_refused_with_what_is_wrong(exported_student, tmp_path, block, said):
    with pytest.raises(ModelError, match=f"reading.sharpness {said}"):
        load_model(_with_reader(exported_student, tmp_path, block))


def test_the_contract_names_the_tiles_the_reader_measures_on():
    """A card fitted on other tiles would read other numbers: the names the contract checks say which."""
    from app.core.model.contract import SHARPNESS_FEATURE_SETS
    from app.core.scoring.sharpness import FEATURES, TILE, TILES

    assert set(FEATURES) == set(SHARPNESS_FEATURE_SETS)
    assert all(name.endswith(f"{TILES} tiles of {TILE} px") for name in SHARPNESS_FEATURE_SETS)


def test_edges_of_one_orientation_show_no_shake_until_the_photo_is_shaken_across_them():
    """A sharp photo of upright slats has no edges of the other orientations: no spread between
    orientations, and shaking it across the slats flattens them. Read by step direction over all
    edges (v0.7.0's measures), the directions along the slats measure no step and looked like shake."""
    from training.data.few_orientations import few_orientations_photo

    photo = few_orientations_photo(10_011)  # a fence
    clean, shaken = (sharpness_features(saved_as_jpeg(p)) for p in (photo, DAMAGE["motion 15 px"](photo)))
    assert clean[5] == clean[6] == 0.0 and clean[3] > 0.6  # one orientation, as steep as a sharp photo's
    assert shaken[3] < 0.6 * clean[3]
    by_direction = sharpness_features(saved_as_jpeg(photo), SHARPNESS_BY_DIRECTION)
    assert by_direction[3] < 0.2 < 0.6 < by_direction[4]  # v0.7.0's weakest direction: no step at all


def test_the_fitted_head_never_reads_steeper_edges_as_blur(reader):
    """The signs are held in the fit: steepness weighs towards sharp, the spread between
    orientations towards shake."""
    from app.core.scoring.sharpness import STEEPER_IS_SHARPER

    for weight, sign in zip(reader.weights, STEEPER_IS_SHARPER):
        assert sign * weight >= 0 or sign == 0


def test_a_card_fitted_on_the_v0_7_0_measures_is_read_with_them(exported_student, tmp_path, reader):
    """v0.7.0's card, and the site versions tuned from it, name the measures by step direction:
    the program still computes those for them."""
    block = reader.to_card() | {"features": SHARPNESS_BY_DIRECTION}
    engine = Engine(load_model(_with_reader(exported_student, tmp_path, block)))
    photo = saved_as_jpeg(textured(1000, 1400, 5))
    opinion = engine.score(photo).sharpness
    assert engine.sharpness.features == SHARPNESS_BY_DIRECTION
    view = reader_view(photo, engine.reading)
    assert opinion.probability == pytest.approx(reader.probability(features_by_direction(view)))
    assert opinion.probability != pytest.approx(reader.probability(sharpness_features(view)))
