"""A tiny run of the scale stage: MOS + scale consistency on high-resolution photos + native
synthetic terms; with the consistency weights at 0 (the overview network) those terms are off."""

import pytest
import torch

from models import create_model
from training.__main__ import main


@pytest.fixture
def start(tmp_path, make_photos):
    torch.manual_seed(0)
    model = create_model("student", weights=None)
    path = tmp_path / "start.pt"
    torch.save({"config": model.config.to_dict(), "model": model.state_dict(), "card_info": {}}, path)
    hires = tmp_path / "hires"
    make_photos(hires, 2, (600, 800), name="{i}.png", seed=1)
    return path, hires


@pytest.mark.slow
@pytest.mark.parametrize("consistency", [1.0, 0.0])
def test_scale_stage_trains_and_logs_the_terms_it_uses(tmp_path, tiny_mos_set, start, consistency):
    csv_path, root = tiny_mos_set
    init, hires = start
    out = tmp_path / f"run{consistency}"
    assert main(["scale", "--init", str(init), "--csv", str(csv_path), "--root", str(root), "--hires", str(hires),
                 "--out", str(out), "--epochs", "1", "--batch-size", "4", "--crop", "64",
                 "--set", "consistency_crop=64", "consistency_batch=2", "aux.crop=64",
                 f"loss.consistency={consistency}", f"loss.consistency_opinions={consistency}"]) == 0
    history = (out / "history.csv").read_text()
    assert (out / "best.pt").exists() and "loss_opinions_mos" in history and "loss_aux_map" in history
    assert ("loss_consistency" in history) == bool(consistency)
    card = torch.load(out / "best.pt", weights_only=True)["card_info"]["training"]["data"]
    assert "held out for the scale benchmark" in card
