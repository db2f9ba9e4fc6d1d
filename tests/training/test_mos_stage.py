"""A tiny end-to-end run of the MOS stage: learns, resumes exactly, exports, evaluates."""
import csv
import json

import pytest
import torch

from training.__main__ import main
from training.data.mos import read_mos_csv, split_items

FAST = {
    "model": "student",
    "backbone_weights": None,
    "crop": 64,
    "batch_size": 6,
    "lr_backbone": 1e-3,
    "lr_head": 3e-3,
    "warmup_epochs": 0,
    "loss": {"l1": 1.0, "plcc": 0.3, "diversity": 0.01},
    "val_fraction": 0.25,
    "seed": 0,
    "threads": 2,
}


def _config(tmp_path, **changes):
    path = tmp_path / "stage.json"
    path.write_text(json.dumps(FAST | changes))
    return path


def _train(tmp_path, tiny_mos_set, out, epochs, *extra):
    csv_path, root = tiny_mos_set
    cfg = _config(tmp_path)
    args = ["teacher", "--config", str(cfg), "--csv", str(csv_path), "--root", str(root), "--out", str(out), "--epochs", str(epochs), *extra]
    assert main(args) == 0
    with open(out / "history.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_training_learns_resumes_exactly_and_exports(tmp_path, tiny_mos_set, capsys):
    straight = _train(tmp_path, tiny_mos_set, tmp_path / "straight", 4)
    assert len(straight) == 4
    first, last = float(straight[0]["loss_total"]), float(straight[-1]["loss_total"])
    assert last < first, f"loss went {first:.4f} -> {last:.4f}"
    assert (tmp_path / "straight" / "curves.png").stat().st_size > 0

    # Stop after 2 epochs, then rerun: it continues from step 2 * steps and ends identical.
    assert len(_train(tmp_path, tiny_mos_set, tmp_path / "resumed", 4, "--stop-after", "2")) == 2
    resumed = _train(tmp_path, tiny_mos_set, tmp_path / "resumed", 4)
    assert [int(r["step"]) for r in resumed] == [int(r["step"]) for r in straight]
    a = torch.load(tmp_path / "straight" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)["model"]
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-5), key

    # The best checkpoint exports to a contract-valid model carrying its validation metrics.
    out = tmp_path / "exported" / "tiny"
    assert main(["export", "--checkpoint", str(tmp_path / "straight" / "best.pt"), "--out", str(out)]) == 0
    card = json.loads(out.with_suffix(".json").read_text())
    assert "val_srcc" in card["metrics"] and "split" in card["metrics"]
    assert "stage teacher" in card["training"]["recipe"]

    capsys.readouterr()
    csv_path, root = tiny_mos_set
    preds = tmp_path / "preds.csv"
    assert main(["evaluate", "--model", str(out.with_suffix(".onnx")), "--csv", str(csv_path), "--root", str(root), "--predictions", str(preds)]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= {"srcc", "plcc", "krcc", "rmse"} and metrics["n"] == 24
    with open(preds) as f:
        assert len(list(csv.DictReader(f))) == 24


def test_validation_split_is_fixed_by_its_seed_and_disjoint(tiny_mos_set):
    items = read_mos_csv(tiny_mos_set[0])
    train_a, val_a = split_items(items, 0.25, seed=3)
    train_b, val_b = split_items(items, 0.25, seed=3)
    assert val_a == val_b and len(val_a) == 6
    assert not {i.image for i in train_a} & {i.image for i in val_a}
    assert split_items(items, 0.25, seed=4)[1] != val_a


def test_csv_split_column_wins_over_the_seed(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("image,mos,std,split\na.png,50,1,train\nb.png,60,1,val\nc.png,70,1,train\n")
    train, val = split_items(read_mos_csv(path), 0.5, seed=0)
    assert [i.image for i in val] == ["b.png"] and len(train) == 2


def test_a_csv_without_mos_is_refused(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("image,score\na.png,3\n")
    with pytest.raises(ValueError, match="missing column"):
        read_mos_csv(path)


def test_split_command_writes_the_same_split_the_stages_use(tiny_mos_set, tmp_path):
    csv_path, _ = tiny_mos_set
    assert main(["split", "--csv", str(csv_path), "--out", str(tmp_path), "--val-fraction", "0.25", "--seed", "3"]) == 0
    _, val = split_items(read_mos_csv(csv_path), 0.25, seed=3)
    written = read_mos_csv(tmp_path / "val.csv")
    assert [i.image for i in written] == [i.image for i in val]
    assert [round(i.mos, 4) for i in written] == [round(i.mos, 4) for i in val]
    assert len(read_mos_csv(tmp_path / "train.csv")) == 18
