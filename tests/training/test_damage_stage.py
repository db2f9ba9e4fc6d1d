"""A tiny run of the damage stage: only the new head trains, so the network scores as before."""

import numpy as np
import pytest
import torch
from PIL import Image

from models import create_model, load_checkpoint
from training.__main__ import main


@pytest.fixture
def start(tmp_path):
    torch.manual_seed(0)
    model = create_model("student", weights=None)
    path = tmp_path / "start.pt"
    info = {"training": {"data": "the start's own data", "recipe": "the start's own recipe"}}
    torch.save({"config": model.config.to_dict(), "model": model.state_dict(), "card_info": info}, path)
    hires = tmp_path / "hires"
    hires.mkdir()
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:300, 0:400]
    for i in range(4):
        smooth = (np.sin(xx / (5 + i)) * np.cos(yy / 7) * 70 + 128)[..., None] * np.array([1.0, 0.85, 0.7])
        Image.fromarray(np.clip(smooth + rng.normal(0, 3, smooth.shape), 0, 255).astype(np.uint8)).save(hires / f"{i}.png")
    return path, hires


@pytest.mark.slow
def test_the_damage_stage_trains_the_head_alone_and_scores_stay_as_they_were(tmp_path, start):
    init, hires = start
    out = tmp_path / "run"
    assert main(["damage", "--init", str(init), "--hires", str(hires), "--out", str(out), "--epochs", "2",
                 "--crop", "64", "--set", "groups_per_epoch=4", "val_groups=2", "hidden=8"]) == 0
    history = (out / "history.csv").read_text()
    assert "loss_whole" in history and "loss_region" in history and "val_map_auroc" in history
    before, _ = load_checkpoint(init)
    after, ckpt = load_checkpoint(out / "best.pt")
    assert after.config.damage_head == 8
    trained = after.state_dict()
    for key, value in before.state_dict().items():  # every weight and BatchNorm statistic
        assert torch.equal(trained[key], value), key
    x = torch.randn(1, 3, 80, 112)
    with torch.no_grad():
        assert torch.equal(before.eval()(x)["score"], after.eval()(x)["score"])
    training = ckpt["card_info"]["training"]
    assert training["data"] == "the start's own data"  # how the network itself was trained is kept
    assert "held out (never read)" in training["damage_head"]["data"]
