"""Which ONNX Runtime execution provider runs the model: picked automatically, or forced.

``auto`` takes CUDA when this ONNX Runtime build has it (``onnxruntime-gpu`` on a station with
an NVIDIA GPU) and the CPU otherwise. ``MOBILEIQA_PROVIDER=cpu|cuda`` (or the CLI's
``--provider``) forces one; a forced provider that this build lacks is refused with a message,
never silently replaced. (OpenVINO was measured and not adopted: see the README's benchmarks.)
"""
from __future__ import annotations

import os

import onnxruntime as ort

NAMES = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}
PREFERENCE = ("cuda", "cpu")
ENV = "MOBILEIQA_PROVIDER"


class ProviderError(ValueError):
    pass


def available() -> list[str]:
    """Short names of the providers this ONNX Runtime build offers, in our order of preference."""
    have = set(ort.get_available_providers())
    return [name for name in PREFERENCE if NAMES[name] in have]


def choose(requested: str | None = None) -> list[str]:
    """ORT provider list for ``requested`` (None: the environment's choice, else ``auto``)."""
    requested = (requested or os.environ.get(ENV) or "auto").lower()
    if requested == "auto":
        return [NAMES[available()[0]]] + ([NAMES["cpu"]] if available()[0] != "cpu" else [])
    if requested not in NAMES:
        raise ProviderError(f"unknown execution provider {requested!r}: choose auto, {', '.join(NAMES)}")
    if requested not in available():
        raise ProviderError(f"execution provider {requested!r} is not in this ONNX Runtime build "
                            f"(available: {', '.join(available())}); for cuda install onnxruntime-gpu")
    return [NAMES[requested]] + ([NAMES["cpu"]] if requested != "cpu" else [])


def describe(session: ort.InferenceSession) -> str:
    """The provider that runs first, as a user reads it: 'CPU', 'CUDA'."""
    first = session.get_providers()[0]
    return next((k.upper() for k, v in NAMES.items() if v == first), first)
