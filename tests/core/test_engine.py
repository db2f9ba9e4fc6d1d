import dataclasses

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from app.core.scoring.engine import OUTPUTS, Engine
from app.core.model.loader import load_model


@pytest.fixture
def engine(exported_student):
    return Engine(load_model(exported_student[1]))


def test_engine_normalises_as_the_card_says_and_returns_every_output(engine, exported_student):
    rgb = np.random.default_rng(0).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    result = engine.score(rgb)
    expected_input = ((rgb.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    session = ort.InferenceSession(str(exported_student[1]), providers=["CPUExecutionProvider"])
    direct = dict(zip(OUTPUTS, session.run(list(OUTPUTS), {"image": expected_input})))
    assert result.score == pytest.approx(float(direct["score"][0]), abs=1e-4)
    assert 0 <= result.score <= 100
    assert result.opinions.shape == (3,)
    assert result.attention.shape == (3, 8, 13)
    assert result.distortion.shape == (8, 13)
    assert result.seconds > 0


def test_engine_refuses_images_below_the_minimum_side(engine):
    with pytest.raises(ValueError, match="smaller than"):
        engine.score(np.zeros((20, 200, 3), np.uint8))


def test_the_score_pass_reads_an_overview_at_the_viewing_size_and_native_tiles(exported_student):
    engine = Engine(load_model(exported_student[1]))
    side = engine.reading.overview_side
    rgb = np.random.default_rng(1).integers(0, 256, (side, 2 * side, 3), dtype=np.uint8)
    result = engine.score(rgb)
    assert result.scaled == pytest.approx(0.5)  # the overview: long side at the viewing size
    assert result.attention.shape[-2:] == (side // 2 // 16, side // 16)
    assert result.cell == pytest.approx(32.0)  # each overview cell covers 32 photo pixels
    assert result.detail_score is not None and 0 <= result.detail_score <= 100
    small = engine.score(rgb[:200, :300])  # no larger than the viewing size: read as it is
    assert small.scaled == 1.0 and small.detail_score is None and small.score == small.overview_score


def test_a_smooth_photo_and_its_downscales_score_alike(exported_student):
    """The scale principle on a generated image: every downscale still at least the viewing
    size reads the same overview, so the score does not follow the pixel count."""
    import cv2

    engine = Engine(load_model(exported_student[1]))
    rng = np.random.default_rng(2)
    base = cv2.resize(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8), (3200, 2400), interpolation=cv2.INTER_CUBIC)
    base = cv2.GaussianBlur(base, (0, 0), 3)
    scores = []
    for side in (768, 1024, 1600, 3200):
        img = cv2.resize(base, (side, side * 3 // 4), interpolation=cv2.INTER_AREA)
        scores.append(engine.score(img).overview_score)
    assert max(scores) - min(scores) < 3.0, scores


def test_a_card_declares_how_the_score_combines_its_readers(exported_student):
    from app.core.scoring.reading import Reading

    model = load_model(exported_student[1])
    card = dict(model.card, reading=Reading(overview_side=256, detail_weight=0.5).to_card())
    engine = Engine(dataclasses.replace(model, card=card))
    rgb = np.random.default_rng(3).integers(0, 256, (300, 600, 3), dtype=np.uint8)
    r = engine.score(rgb)
    assert r.score == pytest.approx(0.5 * r.overview_score + 0.5 * r.detail_score, abs=1e-4)


def test_the_worse_reader_weighs_most_when_the_card_says_so_and_agreeing_readers_keep_their_score():
    from app.core.scoring.reading import Reading

    mean = Reading(detail_weight=0.3)
    worse = Reading.from_card({"reading": {"fusion": "worse", "worse_weight": 0.75}})
    assert mean.fuse(70.0, 20.0) == pytest.approx(55.0)
    assert worse.fuse(70.0, 20.0) == pytest.approx(32.5)  # damage at 100 % fails the photo
    assert worse.fuse(20.0, 70.0) == pytest.approx(32.5)  # damage at fit too
    assert worse.fuse(66.0, 66.0) == pytest.approx(66.0)  # a clean photo read alike at both scales
    assert worse.fuse(66.0, None) == 66.0  # no larger than the viewing size: the overview alone
    assert worse.to_card()["fusion"] == "worse" and "worse" in worse.to_card()["meaning"]


def test_the_detail_reader_caps_the_score_when_the_card_says_so_and_never_raises_it():
    from app.core.scoring.reading import Reading

    cap = Reading.from_card({"reading": {"fusion": "cap", "detail_margin": 10}})
    assert cap.fuse(70.0, 20.0) == pytest.approx(30.0)  # damage at 100 %: the detail's opinion + the margin
    assert cap.fuse(70.0, 64.0) == pytest.approx(70.0)  # a clean photo's detail within the margin: the overview's
    assert cap.fuse(55.0, 85.0) == pytest.approx(55.0)  # a detail that likes the photo more never raises it
    assert cap.fuse(20.0, 70.0) == pytest.approx(20.0)  # damage at fit is the overview's own
    assert cap.fuse(66.0, None) == 66.0
    assert cap.detail_share(70.0, 20.0) == 1.0 and cap.detail_share(70.0, 64.0) == 0.0  # whose map the score counts
    card = cap.to_card()
    assert card["fusion"] == "cap" and card["detail_margin"] == 10 and "capped" in card["meaning"]
    assert Reading.from_card({"reading": card}) == cap


def test_a_card_whose_detail_caps_the_score_is_read_so_by_the_engine(exported_student):
    from app.core.scoring.reading import Reading

    model = load_model(exported_student[1])
    rgb = np.random.default_rng(3).integers(0, 256, (300, 600, 3), dtype=np.uint8)
    for margin in (0.0, 50.0):
        card = dict(model.card, reading=Reading(overview_side=256, fusion="cap", detail_margin=margin).to_card())
        r = Engine(dataclasses.replace(model, card=card)).score(rgb)
        assert r.score == pytest.approx(min(r.overview_score, r.detail_score + margin), abs=1e-4)
        assert r.detail_capped == (r.detail_score + margin < r.overview_score)  # what the viewer says


@pytest.mark.parametrize("reading, message", [
    ({"fusion": "median"}, "reading.fusion"),
    ({"fusion": "worse", "worse_weight": 0.2}, "worse_weight"),
    ({"fusion": "worse", "worse_weight": "3/4"}, "worse_weight"),
    ({"fusion": "cap", "detail_margin": -5}, "detail_margin"),
    ({"fusion": "cap", "detail_margin": True}, "detail_margin"),
])
def test_a_card_with_a_reading_rule_the_engine_does_not_know_is_refused(reading, message):
    from app.core.model.contract import ModelError, validate_reading

    with pytest.raises(ModelError, match=message):
        validate_reading(reading, "card")


def test_a_model_whose_embedding_is_too_large_to_store_gives_a_model_error(exported_student):
    from app.core.scoring.engine import MAX_EMBEDDING, ModelOutputError

    engine = Engine(load_model(exported_student[1]))
    real = engine.run

    def huge(rgb, reader="overview"):
        out = real(rgb, reader)
        out["embedding"] = np.zeros((1, MAX_EMBEDDING + 1), np.float32)
        return out

    engine.run = huge
    with pytest.raises(ModelOutputError, match="embedding"):
        engine.score(np.full((64, 64, 3), 128, np.uint8))


def test_the_detail_reader_cuts_its_tiles_from_the_photo_reduced_to_the_cards_detail_side(exported_student):
    import dataclasses

    from app.core.scoring.reading import Reading, detail_boxes, overview

    engine = Engine(load_model(exported_student[1]))
    engine.reading = dataclasses.replace(Reading(), overview_side=96, detail_tile=64, detail_tiles=4,
                                         fusion="worse", detail_side=160)
    rgb = np.random.default_rng(0).integers(0, 256, (360, 480, 3), dtype=np.uint8)
    reduced = overview(rgb, 160)
    assert reduced.shape[:2] == (120, 160)
    expected = np.mean([float(engine.run(reduced[t:t + h, l:l + w], "detail")["score"][0])
                        for t, l, h, w in detail_boxes(120, 160, 64, 4)])
    assert engine.detail(rgb) == pytest.approx(expected)
    native = dataclasses.replace(engine.reading, detail_side=0)
    assert native.detail_view(rgb) is rgb


@pytest.mark.parametrize("h, w, fx, fy", [(600, 900, 3, 3), (613, 907, 3, 3), (601, 899, 2, 5), (97, 131, 7, 4)])
def test_the_box_average_is_pillows_box_reduction_up_to_its_rounding(h, w, fx, fy):
    """Whole boxes and the partial last column and row of boxes, as Pillow's reduce makes them;
    Pillow's fixed point rounds a mean one level down where (sum + n/2) is a multiple of n
    (a ninth of the pixels of 3 x 3 boxes): one level apart at most, on at most that share."""
    from PIL import Image

    from app.core.scoring.reading import box_average

    rgb = np.random.default_rng(h + w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    ours = box_average(rgb, fx, fy)
    pillows = np.asarray(Image.fromarray(rgb).reduce((fx, fy)))
    assert ours.shape == pillows.shape == (-(-h // fy), -(-w // fx), 3)
    apart = np.abs(ours.astype(int) - pillows.astype(int))
    assert apart.max() <= 1 and (apart > 0).mean() <= 1.0 / (fx * fy) + 0.01


@pytest.mark.parametrize("h, w", [(3024, 4032), (2049, 3075), (900, 1200), (700, 1000)])
def test_the_overview_reads_the_photo_as_pillows_own_reduction_does(h, w):
    """The viewing-size photo the network reads: Lanczos over Pillow's box pre-reduction
    (reducing_gap 2), the box step done apart. A photo reduced by less than twice goes to Pillow
    whole and reads the same to the level."""
    from PIL import Image

    from app.core.scoring.reading import overview

    rng = np.random.default_rng(w)
    rgb = cv2.resize(rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    rgb = np.clip(rgb + rng.normal(0, 12, rgb.shape), 0, 255).astype(np.uint8)  # edges and grain
    ours = overview(rgb, 512)
    f = 512 / max(h, w)
    pillows = np.asarray(Image.fromarray(rgb).resize((round(w * f), round(h * f)), Image.LANCZOS, reducing_gap=2.0))
    assert ours.shape == pillows.shape
    apart = np.abs(ours.astype(int) - pillows.astype(int))
    assert apart.max() <= (0 if max(h, w) < 2 * 512 else 2), apart.max()
