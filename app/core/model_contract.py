"""The contract between training and the app: what an exported model must look like.

An exported model is two files side by side: ``NAME.onnx`` and its card ``NAME.json``. Training
writes them (training.export); the app checks them (app.core.model_loader). Both sides read the
rules from here, so they cannot drift apart.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

CARD_FORMAT = "mobileiqa-model/1"
INPUT_NAME = "image"
# Graph metadata of a main graph exported with its detail graph: that graph's sha256 (so the
# main graph's own hash identifies the pair; the loader checks they belong together).
DETAIL_SHA_KEY = "mobileiqa.detail_sha256"
# Output name -> rank. Batch is always 1 in the app; maps are [1, V or 1, h, w].
OUTPUT_RANKS = {"score": 1, "opinions": 2, "attention": 4, "distortion": 4, "embedding": 2}
# Grown since v0.2 (older models lack them, and are still accepted): ``fusion_weights``, each
# view's share in the score; ``damage``, a detail network's plain local damage map from a
# map-only head that does not feed the score (models.damage_head).
OPTIONAL_OUTPUT_RANKS = {"fusion_weights": 2, "damage": 4}
REQUIRED_CARD_FIELDS = (
    "format",
    "name",
    "version",
    "created",
    "backbone",
    "views",
    "input",
    "stride",
    "score_range",
    "distortion_map",
    "training",
    "metrics",
    "onnx_file",
    "sha256",
)
REQUIRED_INPUT_FIELDS = ("name", "layout", "color", "scale", "mean", "std")


class ModelError(Exception):
    """A model that must not be used, with a message that says what is wrong with it."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def validate_card(card: object, where: str = "model card") -> dict:
    """Check a parsed card has every field the app relies on; return it or raise ModelError."""
    if not isinstance(card, dict):
        raise ModelError(f"{where}: expected a JSON object, got {type(card).__name__}")
    if card.get("format") != CARD_FORMAT:
        raise ModelError(f"{where}: format is {card.get('format')!r}, expected {CARD_FORMAT!r}")
    missing = [k for k in REQUIRED_CARD_FIELDS if k not in card]
    if missing:
        raise ModelError(f"{where}: missing field(s) {', '.join(missing)}")
    inp = card["input"]
    if not isinstance(inp, dict):
        raise ModelError(f"{where}: 'input' must be an object")
    missing = [k for k in REQUIRED_INPUT_FIELDS if k not in inp]
    if missing:
        raise ModelError(f"{where}: input is missing {', '.join(missing)}")
    if inp["name"] != INPUT_NAME:
        raise ModelError(f"{where}: input name is {inp['name']!r}, expected {INPUT_NAME!r}")
    for key in ("mean", "std"):
        values = inp[key]
        if not (isinstance(values, list) and len(values) == 3 and all(isinstance(v, (int, float)) for v in values)):
            raise ModelError(f"{where}: input {key} must be three numbers")
    if any(v <= 0 for v in inp["std"]):
        raise ModelError(f"{where}: input std must be positive")
    rng = card["score_range"]
    if not (isinstance(rng, list) and len(rng) == 2 and rng[0] < rng[1]):
        raise ModelError(f"{where}: score_range must be [low, high]")
    if not isinstance(card["views"], int) or card["views"] < 1:
        raise ModelError(f"{where}: views must be a positive integer")
    validate_reading(card.get("reading"), where)
    detail = card.get("detail_model")
    if detail is not None and not (isinstance(detail, dict) and isinstance(detail.get("onnx_file"), str)
                                   and isinstance(detail.get("sha256"), str)):
        raise ModelError(f"{where}: detail_model must name its onnx_file and sha256")
    return card


def validate_reading(reading: object, where: str) -> None:
    """The optional ``reading`` block (how the score reads a photo, see app.core.reading)."""
    if reading is None:
        return
    if not isinstance(reading, dict):
        raise ModelError(f"{where}: 'reading' must be an object")
    for key in ("overview_side", "detail_tile", "detail_tiles"):
        value = reading.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 16384:
            raise ModelError(f"{where}: reading.{key} must be a positive integer")
    weight = reading.get("detail_weight", 0.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0.0 <= weight <= 1.0:
        raise ModelError(f"{where}: reading.detail_weight must be a number from 0 to 1")
