"""The command that changes how a model's overview and detail readers combine: a new model with the
same graphs, its readers' caps kept, its card saying the new rule."""
import json

import numpy as np
import pytest

from app.core.model.contract import model_identity
from app.core.model.loader import load_model
from app.core.paths import default_model_dir
from app.core.scoring.engine import Engine
from training.__main__ import main

SHIPPED = default_model_dir() / "mobileiqa-student.onnx"


def _ruled(base, out, *options):
    assert main(["reading-rule", "--model", str(base), *options, "--version", "9.9.9", "--out", str(out)]) == 0
    return out / SHIPPED.name


def test_the_reading_rule_command_makes_a_model_whose_detail_reader_caps_the_score(tmp_path):
    worse = _ruled(SHIPPED, tmp_path / "worse", "--fusion", "worse", "--worse-weight", "0.75")
    model = load_model(_ruled(worse, tmp_path / "cap", "--fusion", "cap", "--detail-margin", "12"), threads=1)
    card, base = model.card, json.loads(worse.with_suffix(".json").read_text())
    assert card["version"] == "9.9.9" and card["sha256"] == base["sha256"]  # the same graphs ...
    assert model_identity(card) != model_identity(base)  # ... read another way: another model
    reading = card["reading"]
    assert base["reading"]["fusion"] == "worse"
    assert reading["fusion"] == "cap" and reading["detail_margin"] == 12 and "worse_weight" not in reading
    for reader in ("exposure", "sharpness"):  # the readers' caps and sentences stay, each said once
        assert reading[reader] == base["reading"][reader]
        assert reading["meaning"].count(base["notes"][reader]) == 1
    assert reading["meaning"].startswith("score = the overview's opinion") and "plus 12 points" in card["notes"]["reading"]
    assert "reading-rule" in card["commands"][-1] and "evaluations" not in card

    rng = np.random.default_rng(0)
    noisy = np.clip(rng.normal(128, 60, (900, 1200, 3)), 0, 255).astype(np.uint8)
    r = Engine(model).score(noisy)
    caps = [c.score for c in (r.exposure, r.sharpness) if c is not None]
    assert r.detail_score is not None
    assert r.score == pytest.approx(min([r.overview_score, r.detail_score + 12] + caps), abs=1e-4)


def test_a_rule_changed_back_gives_the_reading_it_started_from(tmp_path):
    base = json.loads(SHIPPED.with_suffix(".json").read_text())["reading"]
    other = ["--fusion", "worse", "--worse-weight", "0.6"] if base["fusion"] == "cap" else ["--fusion", "cap"]
    first = _ruled(SHIPPED, tmp_path / "a", *other)
    same = (["--fusion", "cap", "--detail-margin", str(base["detail_margin"])] if base["fusion"] == "cap"
            else ["--fusion", "worse", "--worse-weight", str(base["worse_weight"])])
    back = load_model(_ruled(first, tmp_path / "b", *same)).card["reading"]
    assert load_model(first).card["reading"] != base and back == base


def test_a_margin_the_engine_would_refuse_is_refused_before_a_model_is_written(tmp_path):
    with pytest.raises(SystemExit, match="detail_margin"):
        main(["reading-rule", "--model", str(SHIPPED), "--fusion", "cap", "--detail-margin", "80",
              "--version", "9.9.9", "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()
