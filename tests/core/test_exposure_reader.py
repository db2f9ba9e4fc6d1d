"""The exposure reader a card may carry: it caps the score, never raises it, and a bad one is refused."""
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.model.contract import ModelError, model_identity
from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from tests.conftest import copy_with_reading


def _embedding_size(onnx_path) -> int:
    return int(Engine(load_model(onnx_path)).run(np.full((64, 64, 3), 128, np.uint8))["embedding"].shape[-1])


def _with_reader(exported_student, tmp_path, block) -> Path:
    """A copy of the tiny model whose card reads exposure with ``block``."""
    return copy_with_reading(exported_student, tmp_path, exposure=block)


def _block(size, over_bias=-20.0, under_bias=-20.0, weight=0.0):
    head = lambda bias: {"weights": [weight] * size, "bias": bias}  # noqa: E731
    return {"features": ["embedding"], "center": [0.0] * size, "scale": [1.0] * size, "over": head(over_bias),
            "under": head(under_bias)}


@pytest.mark.parametrize("over_bias, under_bias", [(-20.0, -20.0), (0.0, -20.0), (-20.0, 1.5), (3.0, 20.0)])
def test_an_exposure_reader_caps_the_score_and_never_raises_it(exported_student, tmp_path, over_bias, under_bias):
    size = _embedding_size(exported_student[1])
    plain = Engine(load_model(exported_student[1]))
    capped = Engine(load_model(_with_reader(exported_student, tmp_path, _block(size, over_bias, under_bias))))
    rgb = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    before, after = plain.score(rgb), capped.score(rgb)
    p = 1 / (1 + np.exp(-max(over_bias, under_bias)))
    assert after.exposure.score == pytest.approx(100 * (1 - p))
    assert after.exposure.kind == ("over" if over_bias >= under_bias else "under")
    assert after.score == pytest.approx(min(before.score, 100 * (1 - p)))
    assert after.score <= before.score and after.exposure_capped == (100 * (1 - p) < before.score)
    assert after.raw_score == after.score and after.overview_score == before.overview_score


def test_an_exposure_reader_reads_the_embedding_it_was_fitted_on(exported_student, tmp_path):
    """The heads act on (embedding - center) / scale: a photo whose embedding lies along the
    'over' weights is read as over-exposed, its copy mirrored away from them is not."""
    size = _embedding_size(exported_student[1])
    plain = Engine(load_model(exported_student[1]))
    rgb = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    emb = plain.score(rgb).embedding
    block = _block(size, over_bias=0.0)
    block["center"] = (emb - 1.0).tolist()  # this photo sits +1 from the center on every value
    block["over"]["weights"] = [5.0 / size] * size
    result = Engine(load_model(_with_reader(exported_student, tmp_path, block))).score(rgb)
    assert result.exposure.kind == "over" and result.exposure.probability == pytest.approx(1 / (1 + np.exp(-5)), abs=1e-3)


def test_a_card_with_an_exposure_reader_is_another_model(exported_student, tmp_path):
    size = _embedding_size(exported_student[1])
    card = load_model(_with_reader(exported_student, tmp_path, _block(size))).card
    assert model_identity(card) != model_identity(json.loads(exported_student[2].read_text()))


@pytest.mark.parametrize("block, said", [
    ("yes", "must be an object"),
    ({"over": {}, "under": {}}, "features must list"),
    ("histogram first", "features must list"),
    ("no center", "needs center and scale"),
    ("histogram without its values", "the tone features' 16"),
    ("an unknown feature", "features must list"),
    ("short scale", "positive numbers"),
    ("zero scale", "positive numbers"),
    ("nan weight", "weights and a bias"),
    ("missing under", "under must hold"),
    ("string bias", "weights and a bias"),
    ("onset 1", "onset must be a number"),
    ("onset as text", "onset must be a number"),
])
def test_a_card_whose_exposure_reader_is_malformed_is_refused_with_its_reason(exported_student, tmp_path, block, said):
    size = _embedding_size(exported_student[1])
    good = _block(size)
    if block == "histogram first":
        block = dict(good, features=["luminance_histogram", "embedding"])
    elif block == "no center":
        block = {k: v for k, v in good.items() if k != "center"}
    elif block == "histogram without its values":
        block = dict(good, features=["embedding", "luminance_histogram"], center=[0.0] * 10, scale=[1.0] * 10,
                     over={"weights": [0.0] * 10, "bias": 0.0}, under={"weights": [0.0] * 10, "bias": 0.0})
    elif block == "an unknown feature":
        block = dict(good, features=["embedding", "exif"])
    elif block == "short scale":
        block = dict(good, scale=[1.0] * (size - 1))
    elif block == "zero scale":
        block = dict(good, scale=[0.0] * size)
    elif block == "nan weight":
        block = dict(good, over={"weights": [float("nan")] * size, "bias": 0.0})
    elif block == "missing under":
        block = {k: v for k, v in good.items() if k != "under"}
    elif block == "string bias":
        block = dict(good, over={"weights": [0.0] * size, "bias": "1/2"})
    elif block == "onset 1":  # the cap would divide by 1 - onset = 0
        block = dict(good, onset=1.0)
    elif block == "onset as text":
        block = dict(good, onset="0.5")
    path = _with_reader(exported_student, tmp_path, block)
    # json.dumps writes NaN, as an edited card could hold it; the loader refuses it either way.
    with pytest.raises(ModelError, match="exposure") as err:
        load_model(path)
    assert said in str(err.value) or "NaN" in str(err.value)


def test_an_exposure_reader_of_another_embedding_size_is_refused_when_the_engine_opens(exported_student, tmp_path):
    size = _embedding_size(exported_student[1])
    model = load_model(_with_reader(exported_student, tmp_path, _block(size + 3)))
    with pytest.raises(ModelError, match=f"reads {size + 3} embedding values, the graph gives {size}"):
        Engine(model)


def test_tone_statistics_say_where_a_photos_tones_sit():
    from app.core.scoring.exposure import tone_statistics

    red_clipped = np.full((10, 10, 3), 120, np.uint8)
    red_clipped[:5, :, 0] = 255  # half the photo's red channel blown out: its luma is not
    stats = tone_statistics(red_clipped)
    assert stats[:6].tolist() == [0.5, 0.0, 0.0, 0.5, 0.0, 0.0]  # clipped per channel, any, all; crushed
    black = tone_statistics(np.zeros((10, 10, 3), np.uint8))
    assert black[5] == 1.0 and black[6:13].max() == 0.0  # all crushed, every luma percentile 0


def test_an_exposure_reader_also_reads_where_the_overviews_tones_sit(exported_student, tmp_path):
    """With the luma histogram among its features, a head weighing the brightest bin caps a
    blown-out photo and leaves a mid-grey one alone, through the same graph."""
    size = _embedding_size(exported_student[1])
    block = _block(size + 16)
    block["features"] = ["embedding", "luminance_histogram"]
    block["over"]["weights"] = [0.0] * size + [0.0] * 15 + [10.0]  # the share of pixels of luma 240-255
    block["over"]["bias"] = -5.0
    engine = Engine(load_model(_with_reader(exported_student, tmp_path, block)))
    grey = np.random.default_rng(0).integers(100, 140, (96, 128, 3), dtype=np.uint8)
    blown = np.full((96, 128, 3), 250, np.uint8)
    assert engine.score(grey).exposure.score > 99 and not engine.score(grey).exposure_capped
    assert engine.score(blown).exposure.kind == "over" and engine.score(blown).score < 1


@pytest.mark.parametrize("p, cap", [(0.0, 100.0), (0.3, 100.0), (0.5, 100.0), (0.7, 60.0), (0.8, 40.0), (1.0, 0.0)])
def test_the_cap_falls_only_once_the_reader_is_surer_than_its_onset(p, cap):
    """Below the onset a photo keeps its score whatever the heads say; past it the cap falls to
    the bottom of the range at p = 1, so an onset of 0.5 fails (below 40) from p = 0.8."""
    from app.core.scoring.caps import probability_cap

    assert probability_cap(p, 0.5) == pytest.approx(cap)
    assert probability_cap(p, 0.5, (0.0, 10.0)) == pytest.approx(cap / 10)


def test_a_cards_onset_is_read_and_is_part_of_the_models_identity(exported_student, tmp_path):
    size = _embedding_size(exported_student[1])
    rgb = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    p = 1 / (1 + np.exp(-1.5))  # 0.82: past an onset of 0.5
    cards = {}
    for onset in (0.0, 0.5):
        folder = tmp_path / f"onset{onset}"
        folder.mkdir()
        model = load_model(_with_reader(exported_student, folder, dict(_block(size, over_bias=1.5), onset=onset)))
        assert Engine(model).score(rgb).exposure.score == pytest.approx(100 * (1 - max(0.0, p - onset) / (1 - onset)))
        cards[onset] = model.card
    assert model_identity(cards[0.0]) != model_identity(cards[0.5])
