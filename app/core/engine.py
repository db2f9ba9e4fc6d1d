"""Score one photo with a loaded model through ONNX Runtime (no torch)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from .calibration import Calibration
from .model_loader import LoadedModel

# Full resolution is the default (downscaling hides the blur and noise being judged), up to this
# many pixels; larger photos are reduced to it so one huge photo cannot exhaust memory. The
# student's activations cost ~0.35 GB per megapixel (bench/compare.py: 4.4 GB peak at 4032x3024),
# so the cap keeps a 12 MP phone photo whole and holds a 48 MP one to the same ~4.5 GB.
SAFE_MAX_PIXELS = 12_600_000

OUTPUTS = ("score", "opinions", "attention", "distortion", "embedding")
EMBEDDING_DECIMALS = 6


@dataclass(frozen=True)
class ScoreResult:
    score: float  # 0-100, higher is better
    opinions: np.ndarray  # [V] each view's score
    attention: np.ndarray  # [V, h, w] where each view looked (sums to 1 per view)
    distortion: np.ndarray  # [h, w] damage, 0 = clean, 1 = badly damaged
    embedding: np.ndarray  # [D]
    seconds: float  # inference time
    scaled: float = 1.0  # < 1 when the photo was reduced by the resolution policy
    raw_score: float | None = None  # the model's own score when ``score`` is calibrated


@dataclass(frozen=True)
class ResolutionPolicy:
    """``max_side`` None: full resolution (capped at ``max_pixels``); else cap the long side."""

    max_side: int | None = None
    max_pixels: int = SAFE_MAX_PIXELS

    def factor(self, height: int, width: int) -> float:
        f = 1.0
        if self.max_side and max(height, width) > self.max_side:
            f = self.max_side / max(height, width)
        if height * width * f * f > self.max_pixels:
            f = (self.max_pixels / (height * width)) ** 0.5
        return f


class Engine:
    def __init__(self, model: LoadedModel, policy: ResolutionPolicy = ResolutionPolicy(),
                 calibration: Calibration | None = None):
        self.model = model
        self.policy = policy
        self.calibration = calibration  # a site's fit from embedding + score to its MOS
        inp = model.card["input"]
        self._scale = float(inp["scale"])
        self._mean = np.asarray(inp["mean"], np.float32).reshape(3, 1, 1)
        self._std = np.asarray(inp["std"], np.float32).reshape(3, 1, 1)
        self._min_side = int(inp.get("min_side", 33))

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 [H, W, 3] -> normalised float32 [1, 3, H, W], as the card says."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB image [H, W, 3], got shape {rgb.shape}")
        if min(rgb.shape[:2]) < self._min_side:
            raise ValueError(f"image {rgb.shape[1]}x{rgb.shape[0]} is smaller than {self._min_side} px")
        x = rgb.transpose(2, 0, 1).astype(np.float32) * self._scale
        return ((x - self._mean) / self._std)[None]

    def score(self, rgb: np.ndarray) -> ScoreResult:
        factor = self.policy.factor(*rgb.shape[:2])
        if factor < 1.0:
            size = (max(1, round(rgb.shape[1] * factor)), max(1, round(rgb.shape[0] * factor)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        x = self.preprocess(rgb)
        start = time.perf_counter()
        out = dict(zip(OUTPUTS, self.model.session.run(list(OUTPUTS), {"image": x})))
        seconds = time.perf_counter() - start
        raw = float(out["score"][0])
        # Rounded as stored, so a calibration recomputed later from the database gives the same score.
        embedding = np.round(out["embedding"][0].astype(np.float64), EMBEDDING_DECIMALS)
        return ScoreResult(
            score=self.calibration.apply(embedding, raw) if self.calibration else raw,
            raw_score=raw,
            opinions=out["opinions"][0],
            attention=out["attention"][0],
            distortion=out["distortion"][0, 0],
            embedding=embedding,
            seconds=seconds,
            scaled=factor,
        )
