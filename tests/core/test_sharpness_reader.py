"""The sharpness reader a card may carry: it fails a large photo blurred or shaken past what an
inspector accepts at 100 %, leaves its clean original and photos no larger than the viewing size
alone, never raises a score, and a bad block is refused."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.core.model.contract import ModelError, model_identity
from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from app.core.scoring.reading import Reading
from app.core.scoring.sharpness import SharpnessReader, sharpness_features
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
    assert shaken[3] < 0.5 * clean[3] and shaken[4] > 0.7 * clean[4]  # the weaker direction only


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
    """A card fitted on other tiles would read other numbers: the name the contract checks says which."""
    from app.core.model.contract import SHARPNESS_FEATURES
    from app.core.scoring.sharpness import TILE, TILES

    assert SHARPNESS_FEATURES.endswith(f"{TILES} tiles of {TILE} px")
