import json

import numpy as np
import pytest
import torch
from PIL import Image

from training.__main__ import main
from training.losses import damage_map_loss, ranking_loss, whole_crop_map_loss


def test_ranking_loss_is_zero_only_for_a_well_ordered_ladder():
    good = torch.tensor([[0.9, 0.8, 0.7, 0.6]])
    bad = torch.tensor([[0.6, 0.7, 0.8, 0.9]])
    assert ranking_loss(good).item() == 0.0
    assert ranking_loss(bad).item() > 0.1
    assert ranking_loss(torch.tensor([[0.5, 0.5]])).item() == pytest.approx(0.02)  # within the margin


def test_damage_map_loss_prefers_the_map_that_matches_the_mask():
    mask = torch.zeros(1, 32, 32)
    mask[0, :16] = 1
    right = torch.full((1, 1, 2, 2), 0.05)
    right[..., 0, :] = 0.95
    wrong = 1 - right
    assert damage_map_loss(right, mask) < damage_map_loss(wrong, mask)



def test_whole_crop_map_loss_wants_clean_crops_low_and_wholly_damaged_crops_high():
    # A ladder of 6 maps (pristine, levels 1-5): a map that is low on the pristine crop and high
    # on the heaviest levels beats one that only ranks (all mid) and one that is reversed.
    right = torch.full((1, 6, 1, 2, 2), 0.5)
    right[:, 0], right[:, 4:] = 0.05, 0.95
    flat = torch.full((1, 6, 1, 2, 2), 0.5)
    reversed_ = 1 - right
    assert whole_crop_map_loss(right) < whole_crop_map_loss(flat) < whole_crop_map_loss(reversed_)

@pytest.mark.slow
def test_pretrain_runs_and_reports_pairs_and_auroc(tmp_path):
    folder = tmp_path / "clean"
    folder.mkdir()
    data = pytest.importorskip("skimage.data")
    for name in ("astronaut", "chelsea", "coffee"):
        Image.fromarray(getattr(data, name)()).save(folder / f"{name}.png")
    cfg = tmp_path / "pre.json"
    cfg.write_text(json.dumps({
        "model": "student", "backbone_weights": None, "crop": 64, "batch_size": 2, "groups_per_epoch": 4,
        "val_groups": 3, "epochs": 2, "lr_backbone": 1e-3, "lr_head": 3e-3, "warmup_epochs": 0, "seed": 0, "threads": 2,
    }))
    assert main(["pretrain", "--config", str(cfg), "--pristine", str(folder), "--out", str(tmp_path / "run")]) == 0
    history = torch.load(tmp_path / "run" / "last.pt", weights_only=True)["history"]
    assert len(history) == 2 and history[-1]["step"] == 4
    assert 0 <= history[-1]["val_pairs"] <= 1 and 0 <= history[-1]["val_auroc"] <= 1
    assert np.isfinite(history[-1]["loss_rank"]) and np.isfinite(history[-1]["loss_map"])
