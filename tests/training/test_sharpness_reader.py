"""The command that gives an exported model a sharpness reader: a new model with the same graphs,
fitted on ladders of the training photos only (the held-out high-resolution half is never read)."""
import json

import cv2
import numpy as np
import pytest

from app.core.model.contract import model_identity
from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from training.__main__ import main
from training.data.hires import split_hires


@pytest.fixture
def hires_folder(tmp_path):
    """Six generated 'high-resolution' photos; the held-out half is written as broken files, so
    a command that read them would fail."""
    folder = tmp_path / "hires"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(6):
        patches = cv2.resize(rng.integers(0, 256, (18, 24, 3), dtype=np.uint8), (960, 720), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(folder / f"photo{i}.png"), patches)
    _, held_out = split_hires([folder])
    for path in held_out:
        path.write_bytes(b"not a photo")
    return folder


def test_the_sharpness_reader_command_gives_a_model_a_reader_fitted_on_training_photos_only(
        exported_student, tiny_mos_set, hires_folder, tmp_path):
    _, onnx_path, card_path = exported_student
    csv_path, root = tiny_mos_set
    out = tmp_path / "with-reader"
    assert main(["sharpness-reader", "--model", str(onnx_path), "--data", "livec", str(csv_path), str(root),
                 "--photos", "5", "--hires", str(hires_folder), "--version", "9.9.9", "--out", str(out)]) == 0
    model = load_model(out / onnx_path.name)
    card, base = model.card, json.loads(card_path.read_text())
    assert card["version"] == "9.9.9" and card["sha256"] == base["sha256"]  # the same graph ...
    assert model_identity(card) != model_identity(base)  # ... read another way: another model
    block = card["reading"]["sharpness"]
    assert block["onset"] == 0.5 and "once p passes 0.5" in card["notes"]["sharpness"]
    report = card["training"]["sharpness_reader"]
    assert report["data"] == {"high-resolution, native": 3, "high-resolution, 1024 px": 3, "livec": 5}
    assert report["rows"] == 11 * len(report["cross_validated"])
    assert "sharpness-reader" in card["commands"][-1] and "evaluations" not in card
    rgb = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 256, (700, 900, 3), dtype=np.uint8), (0, 0), 4)
    result = Engine(model).score(rgb)
    assert result.sharpness is not None and result.score <= Engine(load_model(onnx_path)).score(rgb).score + 1e-6


def test_refitting_one_reader_keeps_the_other_readers_sentence_on_the_card():
    """A fine-tune refits the exposure reader of a model that also has a sharpness reader: the
    card's meaning drops only the old exposure sentence."""
    from training.reader_cards import with_reader_block

    card = {"reading": {"meaning": "two readers"}}
    card = with_reader_block(card, "exposure", {"onset": 0.0}, "the exposure reader, first fit", {})
    card = with_reader_block(card, "sharpness", {"onset": 0.5}, "the sharpness reader; it caps blur", {})
    card = with_reader_block(card, "exposure", {"onset": 0.2}, "the exposure reader, refitted", {"refit": True})
    assert card["reading"]["meaning"] == "two readers; the sharpness reader; it caps blur; the exposure reader, refitted"
    assert card["reading"]["exposure"] == {"onset": 0.2} and card["reading"]["sharpness"] == {"onset": 0.5}
    assert card["notes"] == {"exposure": "the exposure reader, refitted", "sharpness": "the sharpness reader; it caps blur"}
    assert card["training"]["exposure_reader"] == {"refit": True}
