"""A tiny distillation run: a student learns from a frozen teacher checkpoint, with labeled,
unlabeled and synthetic crops, and exports with the teacher's metrics on its card."""
import json

import pytest
import torch

from models import create_model
from training.__main__ import main
from training.losses import distill_losses


@pytest.fixture
def teacher_ckpt(tmp_path):
    torch.manual_seed(0)
    teacher = create_model("teacher", weights=None)
    path = tmp_path / "teacher.pt"
    torch.save({"config": teacher.config.to_dict(), "model": teacher.state_dict(),
                "card_info": {"metrics": {"val_srcc": 0.9}}}, path)
    return path


@pytest.mark.slow
def test_distill_runs_on_mixed_data_and_exports(tmp_path, tiny_mos_set, teacher_ckpt, make_photos):
    csv_path, root = tiny_mos_set
    cfg = tmp_path / "distill.json"
    cfg.write_text(json.dumps({
        "model": "student", "backbone_weights": None, "crop": 64, "batch_size": 8, "epochs": 2,
        "lr_backbone": 1e-3, "lr_head": 3e-3, "warmup_epochs": 0, "synthetic_per_epoch": 8,
        "val_fraction": 0.25, "seed": 0, "threads": 2,
    }))
    out, unrated, clean = tmp_path / "run", tmp_path / "unrated", tmp_path / "clean"
    make_photos(unrated, 6, (80, 96), name="{i}.png", seed=1)
    make_photos(clean, 3, (80, 96), name="{i}.png", seed=2)
    args = ["distill", "--config", str(cfg), "--teacher", str(teacher_ckpt), "--csv", str(csv_path),
            "--root", str(root), "--out", str(out),
            "--unlabeled", str(unrated), "--pristine", str(clean)]
    assert main(args) == 0
    ckpt = torch.load(out / "last.pt", weights_only=True)
    assert ckpt["extra"] is not None and "weight" in ckpt["extra"]  # the adapter is checkpointed
    assert ckpt["history"][-1]["step"] == 2 * ((18 + 6 + 8) // 8)  # MOS train + unlabeled + synthetic
    ckpt = torch.load(out / "best.pt", weights_only=True)
    assert ckpt["card_info"]["training"]["teacher"]["metrics"] == {"val_srcc": 0.9}
    assert main(["export", "--checkpoint", str(out / "best.pt"), "--out", str(tmp_path / "student")]) == 0
    card = json.loads((tmp_path / "student.json").read_text())
    assert card["backbone"] == "tf_efficientnet_lite0" and "stage distill" in card["training"]["recipe"]


def test_distill_losses_vanish_when_student_equals_teacher_and_skip_unlabeled_items():
    torch.manual_seed(0)
    model = create_model("student", weights=None).eval()
    with torch.no_grad():
        out = model(torch.randn(4, 3, 64, 64))
    adapter = torch.nn.Identity()
    mos = torch.tensor([float("nan")] * 4)
    terms = distill_losses(out, out, adapter, mos, {"feature": 1, "score": 1})
    for key in ("feature", "attention", "quality", "opinion", "score", "l1", "plcc"):
        assert terms[key].abs().item() < 1e-6, key
    other = {k: (v + 0.1 if k in ("lda", "quality") else v) for k, v in out.items()}
    terms = distill_losses(out, other, adapter, torch.tensor([0.5, 0.2, float("nan"), 0.9]), {})
    assert terms["feature"].item() == pytest.approx(0.01, rel=1e-3)
    assert terms["l1"].item() > 0  # computed on the three labeled items only
