"""Options that make long runs practical on a lent GPU and run the same on a CPU: data-loading
workers, a time limit, synthetic terms beside MOS training, and --set overrides."""
import csv
import json

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from training.__main__ import main
from training.command_options import apply_settings
from training.data.mos import MOSDataset, read_mos_csv
from training.device import pick_device, reseed_worker

from .test_mos_stage import FAST


def _crops(dataset, seed):
    loader = DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2, worker_init_fn=reseed_worker,
                        generator=torch.Generator().manual_seed(seed))
    return torch.cat([b["image"] for b in loader])


def test_workers_draw_different_crops_and_repeat_for_a_seed(tiny_mos_set):
    csv_path, root = tiny_mos_set
    dataset = MOSDataset(read_mos_csv(csv_path)[:16], root, (0.5,) * 3, (0.5,) * 3, crop=32, seed=0)
    first, again = _crops(dataset, 1), _crops(dataset, 1)
    assert torch.equal(first, again)
    # Without reseeding both workers would copy one generator: the same crop offsets for the
    # same photo. With it, a photo gets different crops in different epochs (loader seeds).
    other = _crops(dataset, 2)
    assert not torch.equal(first, other)


def test_cpu_is_picked_when_no_gpu_is_asked_for_or_present():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_set_overrides_reach_nested_keys_and_parse_json():
    cfg = apply_settings({"aux": {"crop": 224}, "epochs": 3}, ["aux.crop=64", "epochs=5", "device=cpu", "new.deep=[1, 2]"])
    assert cfg == {"aux": {"crop": 64}, "epochs": 5, "device": "cpu", "new": {"deep": [1, 2]}}


def _pristine(folder, n=2):
    folder.mkdir()
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:96, 0:96]
    for i in range(n):
        img = (np.sin(xx / (4 + i)) * np.cos(yy / 6) * 70 + 128)[..., None] * np.array([1.0, 0.9, 0.7]) + rng.normal(0, 3, (96, 96, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_time_limit_stops_early_and_synthetic_terms_are_logged(tmp_path, tiny_mos_set):
    csv_path, root = tiny_mos_set
    cfg = tmp_path / "stage.json"
    cfg.write_text(json.dumps(FAST | {"aux": {"groups": 1, "crop": 48}}))
    out = tmp_path / "run"
    args = ["teacher", "--config", str(cfg), "--csv", str(csv_path), "--root", str(root), "--out", str(out),
            "--epochs", "5", "--time-limit", "1", "--workers", "1", "--pristine", str(_pristine(tmp_path / "clean"))]
    assert main(args) == 0
    with open(out / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1  # the first epoch took longer than the whole limit: no second one
    assert float(rows[0]["loss_aux_rank"]) >= 0 and 0 < float(rows[0]["loss_aux_map"]) < 5
    assert "time limit of 1 s reached after epoch 1 of 5" in (out / "train.log").read_text()
    # Rerunning without the limit resumes and completes the schedule.
    assert main(args[:-6] + ["--pristine", str(tmp_path / "clean")]) == 0
    with open(out / "history.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [1, 2, 3, 4, 5]
