"""Execution providers: picked automatically, forced on request, refused when absent, in parity."""
import numpy as np
import pytest

from app.core.model import providers
from app.core.scoring.engine import Engine
from app.core.model.contract import ModelError
from app.core.model.loader import load_model


def test_auto_picks_an_available_provider_and_the_model_says_which(exported_student):
    model = load_model(exported_student[1])
    assert model.provider.lower() in providers.available()
    assert providers.choose("auto")[0] == providers.NAMES[providers.available()[0]]


def test_a_forced_provider_this_build_lacks_is_refused_with_a_message(exported_student, monkeypatch):
    monkeypatch.setattr(providers, "available", lambda: ["cpu"])
    with pytest.raises(ModelError, match="not in this ONNX Runtime build.*onnxruntime-gpu"):
        load_model(exported_student[1], provider="cuda")
    with pytest.raises(ModelError, match="unknown execution provider"):
        load_model(exported_student[1], provider="tpu")
    monkeypatch.setenv(providers.ENV, "cpu")
    assert load_model(exported_student[1]).provider == "CPU"


@pytest.mark.parametrize("name", [n for n in providers.NAMES if n != "cpu"])
def test_every_available_provider_scores_like_the_cpu(exported_student, name):
    if name not in providers.available():
        pytest.skip(f"{name}: not in this ONNX Runtime build (needs onnxruntime-gpu and a GPU)")
    rgb = np.random.default_rng(0).integers(0, 256, (700, 900, 3), dtype=np.uint8)
    ref = Engine(load_model(exported_student[1], provider="cpu")).score(rgb)
    got = Engine(load_model(exported_student[1], provider=name)).score(rgb)
    assert abs(got.score - ref.score) < 0.5  # stated tolerance: half a point on the 0-100 scale
    assert np.abs(got.distortion - ref.distortion).max() < 0.02
