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
