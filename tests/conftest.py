"""Shared fixtures: everything is made small and offline, here, at test time."""
from __future__ import annotations

import os

# Qt must never look for a real display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def exported_student(tmp_path_factory):
    """A freshly initialised student exported through the real CLI path: (model, onnx, card)."""
    torch = pytest.importorskip("torch")
    from models import create_model
    from training.export import export_model

    torch.manual_seed(0)
    model = create_model("student", weights=None).eval()
    out = tmp_path_factory.mktemp("models") / "tiny"
    onnx_path, card_path = export_model(model, out)
    return model, onnx_path, card_path
