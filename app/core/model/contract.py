"""The contract between training and the app: what an exported model must look like.

An exported model is two files side by side: ``NAME.onnx`` and its card ``NAME.json``. Training
writes them (training.export); the app checks them (app.core.model.loader). Both sides read the
rules from here, so they cannot drift apart.
"""
from __future__ import annotations

import hashlib
import json
import math
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
# map-only head that does not feed the score (models.damage_head); ``pooled_stages``, the
# backbone's last two stages averaged over the photo, stored beside the embedding for a site's
# calibration to read (v0.7.3).
OPTIONAL_OUTPUT_RANKS = {"fusion_weights": 2, "damage": 4, "pooled_stages": 2}
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
# Card fields that describe a model without changing a single score it gives (its name and
# version, how it was made, what it measured, credits). Every other field (input scaling, the reading block, the score
# range, the graphs' hashes, and any field not named here) is part of the model's identity.
DESCRIPTIVE_CARD_FIELDS = frozenset({
    "created", "training", "metrics", "evaluations", "credits", "commands", "lineage", "distillation", "status",
    "overlays", "opinions", "gmac_budget", "parameters", "backbone_weights", "description", "notes", "parent",
    "finetune", "license", "name", "version", "site_evaluation", "same_scores_as",
})
# Below this a photo has fewer pixels than the network's coarsest stage reads.
MIN_SIDE_FLOOR = 32


class ModelError(Exception):
    """A model that must not be used, with a message that says what is wrong with it."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def model_identity(card: dict) -> str:
    """The sha256 that names a model at a station: its graphs' hashes and every card field that
    changes a score, in a canonical JSON form. A card edited anywhere that matters is a new model
    (it needs its own approval, and its scores are stored apart); adding an evaluation is not."""
    identity = {k: v for k, v in card.items() if k not in DESCRIPTIVE_CARD_FIELDS}
    if isinstance(identity.get("detail_model"), dict):  # the detail graph's own training record
        identity["detail_model"] = {k: v for k, v in identity["detail_model"].items() if k not in DESCRIPTIVE_CARD_FIELDS}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def same_scores_as(card: dict) -> dict | None:
    """The card's claim that its model gives an earlier version's scores bit for bit, so a site's
    thresholds and calibration for that version hold for it (app.core.store.upgrade):
    ``{"identity": <the earlier version's model_identity>, "name", "version", "checked": how}``.
    None without one; a malformed claim is no claim (the field is descriptive: the model still loads)."""
    claim = card.get("same_scores_as")
    if not isinstance(claim, dict):
        return None
    identity = claim.get("identity")
    if not (isinstance(identity, str) and len(identity) == 64 and all(c in "0123456789abcdef" for c in identity)):
        return None
    return claim


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
        if not (isinstance(values, list) and len(values) == 3 and all(_is_number(v) for v in values)):
            raise ModelError(f"{where}: input {key} must be three numbers")
    if any(v <= 0 for v in inp["std"]):
        raise ModelError(f"{where}: input std must be positive")
    if not (_is_number(inp["scale"]) and inp["scale"] > 0):
        raise ModelError(f"{where}: input scale must be a positive number (e.g. 0.00392156862745098 for 1/255)")
    min_side, max_side = inp.get("min_side", MIN_SIDE_FLOOR), inp.get("max_side", 16384)
    if not (_is_int(min_side) and _is_int(max_side) and MIN_SIDE_FLOOR <= min_side <= max_side):
        raise ModelError(f"{where}: input min_side and max_side must be whole numbers with "
                         f"{MIN_SIDE_FLOOR} <= min_side <= max_side")
    rng = card["score_range"]
    if not (isinstance(rng, list) and len(rng) == 2 and all(_is_number(v) for v in rng) and rng[0] < rng[1]):
        raise ModelError(f"{where}: score_range must be [low, high]")
    if not (_is_int(card["stride"]) and card["stride"] >= 1):
        raise ModelError(f"{where}: stride must be a positive integer")
    if not (isinstance(card["sha256"], str) and len(card["sha256"]) == 64):
        raise ModelError(f"{where}: sha256 must be the graph's 64-digit hash")
    if not isinstance(card["views"], int) or card["views"] < 1:
        raise ModelError(f"{where}: views must be a positive integer")
    validate_reading(card.get("reading"), where)
    detail = card.get("detail_model")
    if detail is not None and not (isinstance(detail, dict) and isinstance(detail.get("onnx_file"), str)
                                   and isinstance(detail.get("sha256"), str)):
        raise ModelError(f"{where}: detail_model must name its onnx_file and sha256")
    return card


def validate_reading(reading: object, where: str) -> None:
    """The optional ``reading`` block (how the score reads a photo, see app.core.scoring.reading)."""
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
    if reading.get("fusion", "mean") not in ("mean", "worse", "cap"):
        raise ModelError(f"{where}: reading.fusion must be 'mean', 'worse' or 'cap'")
    margin = reading.get("detail_margin", 10.0)
    if not _is_number(margin) or not 0.0 <= margin <= 50.0:
        raise ModelError(f"{where}: reading.detail_margin must be a number of points from 0 to 50")
    side = reading.get("detail_side", 0)
    if not _is_int(side) or not (side == 0 or 64 <= side <= 16384):
        raise ModelError(f"{where}: reading.detail_side must be 0 (native) or a whole number of pixels from 64")
    worse = reading.get("worse_weight", 0.75)
    if not _is_number(worse) or not 0.5 <= worse <= 1.0:
        raise ModelError(f"{where}: reading.worse_weight must be a number from 0.5 to 1")
    for key, problem in (("exposure", _exposure_problem), ("sharpness", _sharpness_problem)):
        if key in reading:
            said = problem(reading[key])
            if said:
                raise ModelError(f"{where}: reading.{key} {said}")


# The exposure reader's features beside the embedding, and how many values each gives
# (app.core.scoring.exposure computes them).
EXPOSURE_FEATURE_SIZES = {"luminance_histogram": 16, "tone_statistics": 16}


def _exposure_problem(block: object) -> str | None:
    """What is wrong with the exposure reader's block (app.core.scoring.exposure), or None."""
    if not isinstance(block, dict):
        return "must be an object"

    def numbers(values: object) -> bool:
        return isinstance(values, list) and len(values) > 0 and all(_is_number(v) for v in values)

    features = block.get("features")
    if not (isinstance(features, list) and features and features[0] == "embedding"
            and set(features) <= set(EXPOSURE_FEATURE_SIZES) | {"embedding"} and len(set(features)) == len(features)):
        return f"features must list 'embedding' first, then any of {', '.join(EXPOSURE_FEATURE_SIZES)}"
    if not (numbers(block.get("center")) and numbers(block.get("scale"))):
        return "needs center and scale, lists of numbers"
    tones = sum(EXPOSURE_FEATURE_SIZES.get(name, 0) for name in features)
    if len(block["center"]) <= tones:
        return f"center must hold the embedding's values and the tone features' {tones}"
    size = len(block["center"])
    if len(block["scale"]) != size or any(v <= 0 for v in block["scale"]):
        return f"scale must hold {size} positive numbers, one per embedding value"
    onset = block.get("onset", 0.0)
    if not (_is_number(onset) and 0 <= onset < 1):
        return "onset must be a number from 0 up to (not including) 1"
    for kind in ("over", "under"):
        head = block.get(kind)
        if not (isinstance(head, dict) and numbers(head.get("weights")) and len(head["weights"]) == size
                and _is_number(head.get("bias"))):
            return f"{kind} must hold {size} weights and a bias"
    return None


# The sharpness reader's features (app.core.scoring.sharpness computes them): names that say what
# is measured and where (a card fitted on other measures or other tiles is refused instead of read
# wrongly), and their number. Cards from v0.7.1 on measure by edge orientation; v0.7.0's card, and
# the site versions tuned from it, by step direction: both are read as they were fitted.
SHARPNESS_BY_ORIENTATION = "edge steps per local range by edge orientation, 64 tiles of 128 px"
SHARPNESS_BY_DIRECTION = "edge steps per local range in four directions, 64 tiles of 128 px"
SHARPNESS_FEATURE_SETS = (SHARPNESS_BY_ORIENTATION, SHARPNESS_BY_DIRECTION)
SHARPNESS_FEATURE_SIZE = 8


def _sharpness_problem(block: object) -> str | None:
    """What is wrong with the sharpness reader's block (app.core.scoring.sharpness), or None."""
    if not isinstance(block, dict):
        return "must be an object"
    if block.get("features") not in SHARPNESS_FEATURE_SETS:
        return f"features must be one of {list(SHARPNESS_FEATURE_SETS)!r} (the measures this program computes)"
    for key in ("center", "scale", "weights"):
        values = block.get(key)
        if not (isinstance(values, list) and len(values) == SHARPNESS_FEATURE_SIZE and all(_is_number(v) for v in values)):
            return f"{key} must hold {SHARPNESS_FEATURE_SIZE} numbers"
    if any(v <= 0 for v in block["scale"]):
        return "scale must hold positive numbers"
    if not _is_number(block.get("bias")):
        return "bias must be a number"
    onset = block.get("onset", 0.0)
    if not (_is_number(onset) and 0 <= onset < 1):
        return "onset must be a number from 0 up to (not including) 1"
    return None
