"""Score one photo with a loaded model through ONNX Runtime (no torch).

The photo is read the way its card declares (``app.core.scoring.reading``): the whole photo at the
viewing size (the overview) and, for photos larger than that, a fixed grid of native tiles (the
detail). The score pass therefore costs the same bounded amount for a 2 MP and a 48 MP photo;
the full native-resolution damage map is a separate, tiled computation (``app.core.scoring.native_maps``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..calibration import Calibration
from ..model.contract import OPTIONAL_OUTPUT_RANKS, ModelError
from ..model.loader import LoadedModel
from .exposure import ExposureOpinion, ExposureReader
from .reading import Reading, detail_boxes, overview
from .sharpness import SharpnessOpinion, SharpnessReader

OUTPUTS = ("score", "opinions", "attention", "distortion", "embedding")
MAX_EMBEDDING = 4096  # values of the embedding, and of the pooled stages, stored with each score (ours: 96 and 432)
EMBEDDING_DECIMALS = 6


class ModelOutputError(Exception):
    """The model ran but its output is no score (NaN, infinite, out of its range)."""


@dataclass(frozen=True)
class ScoreResult:
    score: float  # 0-100, higher is better
    opinions: np.ndarray  # [V] each attention view's score (of the overview), 0-100
    attention: np.ndarray  # [V, h, w] where each view looked in the overview (sums to 1 per view)
    distortion: np.ndarray  # [h, w] damage in the overview, 0 = clean, 1 = badly damaged
    embedding: np.ndarray  # [D] of the overview
    seconds: float  # inference time
    scaled: float = 1.0  # overview size / photo size (< 1 for photos above the viewing size)
    raw_score: float | None = None  # the model's own score when ``score`` is calibrated
    fusion_weights: np.ndarray | None = None  # [V] each view's share in the score (newer models)
    overview_score: float | None = None  # the whole photo at the viewing size
    detail_score: float | None = None  # mean of the native tiles; None when the photo has no detail
    exposure: ExposureOpinion | None = None  # the exposure reader's cap (models whose card has one)
    exposure_capped: bool = False  # the cap is what this photo's score is
    sharpness: SharpnessOpinion | None = None  # the sharpness reader's cap (photos with detail, models whose card has one)
    sharpness_capped: bool = False  # the cap is what this photo's score is
    detail_capped: bool = False  # the detail reader's cap (cards whose fusion is "cap") is what this photo's score is
    cell: float = 16.0  # photo pixels per cell of the overview's maps
    pooled_stages: np.ndarray | None = None  # [S] the overview's pooled backbone stages, half floats as stored (newer models)


class Engine:
    def __init__(self, model: LoadedModel, calibration: Calibration | None = None):
        self.model = model
        self.calibration = calibration  # a site's fit from embedding + score to its MOS
        self.reading = Reading.from_card(model.card)
        self.exposure = ExposureReader.from_card(model.card)
        self.sharpness = SharpnessReader.from_card(model.card)
        self._range = tuple(float(v) for v in model.card["score_range"])
        inp = model.card["input"]
        self._scale = float(inp["scale"])
        self._mean = np.asarray(inp["mean"], np.float32).reshape(3, 1, 1)
        self._std = np.asarray(inp["std"], np.float32).reshape(3, 1, 1)
        self._min_side = int(inp.get("min_side", 33))
        self.stride = int(model.card.get("stride") or 16)
        self._outputs = {id(s): OUTPUTS + tuple(k for k in OPTIONAL_OUTPUT_RANKS if k in {o.name for o in s.get_outputs()})
                         for s in (model.session, model.detail)}
        self._check_exposure_reader()

    def _check_exposure_reader(self) -> None:
        """An exposure reader fitted on another embedding than this graph's would read noise."""
        if self.exposure is None:
            return
        shape = next((o.shape for o in self.model.session.get_outputs() if o.name == "embedding"), None)
        size = shape[-1] if shape else None
        if isinstance(size, int) and size != self.exposure.embedding_size():
            raise ModelError(f"{self.model.name}: the card's exposure reader reads {self.exposure.embedding_size()} "
                             f"embedding values, the graph gives {size}")

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        """RGB uint8 [H, W, 3] -> normalised float32 [1, 3, H, W], as the card says."""
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB image [H, W, 3], got shape {rgb.shape}")
        if min(rgb.shape[:2]) < self._min_side:
            raise ValueError(f"image {rgb.shape[1]}x{rgb.shape[0]} is smaller than {self._min_side} px")
        x = rgb.transpose(2, 0, 1).astype(np.float32) * self._scale
        return ((x - self._mean) / self._std)[None]

    def _session(self, reader: str):
        return self.model.detail if reader == "detail" else self.model.session

    def outputs(self, reader: str = "overview") -> tuple[str, ...]:
        """The outputs a reader's network gives: the contract's and the optional ones it has."""
        return self._outputs[id(self._session(reader))]

    def run(self, rgb: np.ndarray, reader: str = "overview") -> dict[str, np.ndarray]:
        """Every contract output for one image exactly as given (no resizing), from the
        overview's network or the detail reader's (the same one unless the card names a second)."""
        names = self.outputs(reader)
        return dict(zip(names, self._session(reader).run(list(names), {"image": self.preprocess(rgb)})))

    def detail_view(self, rgb: np.ndarray) -> np.ndarray | None:
        """The pixels the detail reader reads (native, or the photo reduced to the card's
        detail_side); None for photos no larger than the viewing size."""
        return self.reading.detail_view(rgb) if self.reading.has_detail(*rgb.shape[:2]) else None

    def detail(self, rgb: np.ndarray, view: np.ndarray | None = None) -> float | None:
        """Mean score of the detail tiles (``view``: the detail view when already made); None for
        photos no larger than the viewing size."""
        rgb = self.detail_view(rgb) if view is None else view
        if rgb is None:
            return None
        h, w = rgb.shape[:2]
        boxes = detail_boxes(h, w, self.reading.detail_tile, self.reading.detail_tiles)
        scores = [float(self.run(rgb[t:t + th, l:l + tw], "detail")["score"][0]) for t, l, th, tw in boxes]
        return float(np.mean(scores))

    def _check_output(self, score: float, opinions: np.ndarray, out: dict[str, np.ndarray]) -> None:
        """A score that is NaN or outside the card's range is the model's fault: never stored as
        a score with a verdict (250 would pass, NaN would be stored as no score at all); nor is an
        embedding or pooled stages beyond MAX_EMBEDDING values (stored with every row: 5 M floats
        were 50 MB each), nor pooled stages a calibration could not read (NaN, beyond half floats)."""
        for name in ("embedding", "pooled_stages"):
            if name in out and out[name].size > MAX_EMBEDDING:
                raise ModelOutputError(f"the model's {name} has {out[name].size} values; at most {MAX_EMBEDDING} are stored")
        if "pooled_stages" in out and not np.isfinite(out["pooled_stages"].astype(np.float16)).all():
            raise ModelOutputError("the model's pooled stages are not finite numbers a calibration can read")
        low, high = (float(v) for v in self.model.card["score_range"])
        slack = 1e-3 * (high - low)
        if not np.isfinite(score) or not low - slack <= score <= high + slack or not np.isfinite(opinions).all():
            raise ModelOutputError(f"the model's output {score:.4g} is not a score in [{low:g}, {high:g}]")

    def score(self, rgb: np.ndarray) -> ScoreResult:
        if min(rgb.shape[:2]) < self._min_side:
            raise ValueError(f"image {rgb.shape[1]}x{rgb.shape[0]} is smaller than {self._min_side} px")
        start = time.perf_counter()
        view = overview(rgb, self.reading.overview_side, self._min_side)
        out = self.run(view)
        whole = float(out["score"][0])
        detail_view = self.detail_view(rgb)  # made once: the detail tiles and the sharpness reader read it
        detail = self.detail(rgb, detail_view)
        raw = self.reading.fuse(whole, detail)
        detail_capped = self.reading.fusion == "cap" and raw < whole
        # Caps: exposure or blur an inspector fails lowers the score, never raises it.
        exposure = self.exposure.read(out["embedding"][0], view, self._range) if self.exposure else None
        capped = exposure is not None and exposure.score < raw
        if capped:
            raw, detail_capped = exposure.score, False
        # Read only where the detail reader reads: a photo no larger than the viewing size is the overview's.
        reads_sharpness = self.sharpness is not None and detail_view is not None
        sharpness = self.sharpness.read(detail_view, self._range) if reads_sharpness else None
        blur_capped = sharpness is not None and sharpness.score < raw
        if blur_capped:
            raw, capped, detail_capped = sharpness.score, False, False
        self._check_output(raw, out["opinions"][0], out)
        seconds = time.perf_counter() - start
        # Rounded as stored, so a calibration recomputed later from the database gives the same score.
        embedding = np.round(out["embedding"][0].astype(np.float64), EMBEDDING_DECIMALS)
        stages = out["pooled_stages"][0].astype(np.float16) if "pooled_stages" in out else None
        calibrated = self.calibration is not None and self.calibration.can_read(embedding, stages)
        factor = view.shape[1] / rgb.shape[1]
        return ScoreResult(
            score=self.calibration.apply(embedding, raw, stages) if calibrated else raw,
            raw_score=raw,
            opinions=out["opinions"][0],
            attention=out["attention"][0],
            distortion=out["distortion"][0, 0],
            embedding=embedding,
            seconds=seconds,
            scaled=factor,
            overview_score=whole,
            detail_score=detail,
            exposure=exposure,
            exposure_capped=capped,
            sharpness=sharpness,
            sharpness_capped=blur_capped,
            detail_capped=detail_capped,
            cell=self.stride / factor,
            fusion_weights=out["fusion_weights"][0] if "fusion_weights" in out else None,
            pooled_stages=stages,
        )
