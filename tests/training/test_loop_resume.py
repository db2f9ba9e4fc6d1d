"""The shared training loop resumes exactly whatever the data draws from: a run stopped after 2
epochs and rerun ends with the weights of a run of 4 straight, also when the data's randomness
comes from NumPy's and Python's global generators (not the dataset's own, nor torch's)."""
import random

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from training.loop import fit


class _Config:
    def to_dict(self) -> dict:
        return {"tiny": True}


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.config = _Config()
        self.backbone = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        return {"score": self.head(torch.relu(self.backbone(x)))[:, 0]}


class _GlobalNoise(Dataset):
    """Each item is jittered by NumPy's global generator and flipped by Python's: a resume that
    restarted either would draw other data from epoch 3 on."""

    def __init__(self, n: int = 12):
        base = np.random.default_rng(0)
        self.x = base.normal(size=(n, 8)).astype(np.float32)
        self.y = base.normal(size=n).astype(np.float32)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict:
        x = self.x[i] + np.random.normal(0, 0.5, 8).astype(np.float32)
        if random.random() < 0.5:
            x = x[::-1].copy()
        return {"x": torch.from_numpy(x), "y": torch.tensor(self.y[i])}


def _loss(model, batch) -> dict:
    return {"total": ((model(batch["x"])["score"] - batch["y"]) ** 2).mean()}


def _run(out, **more) -> dict:
    torch.manual_seed(0)
    model = _Tiny()
    cfg = {"epochs": 4, "batch_size": 4, "lr_backbone": 1e-2, "lr_head": 1e-2, "warmup_epochs": 0, "seed": 0,
           "device": "cpu", **more}
    fit(model, cfg, _GlobalNoise(), None, out, _loss)
    return torch.load(out / "last.pt", weights_only=True)


@pytest.mark.parametrize("stop_after", [1, 2])
def test_a_stopped_run_resumed_ends_as_the_run_straight_through(tmp_path, stop_after):
    straight = _run(tmp_path / "straight")
    assert _run(tmp_path / "resumed", stop_after=stop_after)["epoch"] == stop_after
    resumed = _run(tmp_path / "resumed")
    assert resumed["step"] == straight["step"] == 4 * 3
    for key, value in straight["model"].items():
        assert torch.equal(value, resumed["model"][key]), key
    assert [r["loss_total"] for r in resumed["history"]] == [r["loss_total"] for r in straight["history"]]


def test_patience_stops_a_run_whose_validation_stopped_improving_and_a_rerun_stays_stopped(tmp_path):
    figures = iter([0.5, 0.7, 0.6, 0.65, 0.69, 0.9, 0.95])  # best at epoch 2, then three worse

    def run(**more):
        torch.manual_seed(0)
        cfg = {"epochs": 7, "batch_size": 4, "lr_backbone": 1e-2, "lr_head": 1e-2, "warmup_epochs": 0, "seed": 0,
               "device": "cpu", "patience": 3, **more}
        return fit(_Tiny(), cfg, _GlobalNoise(), None, tmp_path / "run", _loss,
                   validate_fn=lambda m: {"srcc": next(figures)})

    history = run()
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5]  # epochs 3-5 no better than 2: stop
    assert torch.load(tmp_path / "run" / "best.pt", weights_only=True)["epoch"] == 2
    assert [h["epoch"] for h in run()] == [1, 2, 3, 4, 5]  # a rerun resumes into the same stop
    assert len(run(patience=0)) == 7  # patience 0: off, the run goes on to its last epoch
