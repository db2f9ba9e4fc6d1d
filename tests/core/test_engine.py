import numpy as np
import onnxruntime as ort
import pytest

from app.core.engine import OUTPUTS, Engine
from app.core.model_loader import load_model


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


def test_resolution_policy_keeps_full_size_by_default_and_caps_when_asked(exported_student):
    from app.core.engine import ResolutionPolicy

    policy = ResolutionPolicy()
    assert policy.factor(3024, 4032) == 1.0  # a 12 MP photo is scored as it is
    assert policy.factor(10000, 10000) == pytest.approx((12.6e6 / 1e8) ** 0.5)
    assert ResolutionPolicy(max_side=1000).factor(500, 2000) == 0.5
    engine = Engine(load_model(exported_student[1]), ResolutionPolicy(max_side=80))
    result = engine.score(np.zeros((100, 200, 3), np.uint8))
    assert result.scaled == pytest.approx(0.4) and result.attention.shape[-2:] == (3, 5)  # 80x40 scored
