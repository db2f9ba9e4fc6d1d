"""MobileIQANet, the product's network (configs student and teacher): maps, contract, gradients, size."""
import pytest
import torch

from models import count_parameters, create_model, view_diversity_loss


@pytest.fixture(scope="module")
def student():
    torch.manual_seed(0)
    return create_model("student", weights=None).eval()


@pytest.mark.parametrize("hw", [(500, 500), (333, 517), (250, 190), (1231, 1907)])
def test_map_grid_follows_the_input(student, hw):
    with torch.no_grad():
        out = student(torch.randn(1, 3, *hw))
    grid = (-(-hw[0] // 16), -(-hw[1] // 16))  # ceil(H / 16), ceil(W / 16)
    v = student.config.views
    assert out["score"].shape == (1,)
    assert out["opinions"].shape == (1, v)
    assert out["attention"].shape == (1, v, *grid)
    assert out["distortion"].shape == (1, 1, *grid)
    assert out["embedding"].shape == (1, student.config.width)


@pytest.mark.slow
def test_a_12_megapixel_photo_runs(student):
    with torch.no_grad():
        out = student(torch.randn(1, 3, 3024, 4032))
    assert out["attention"].shape[-2:] == (189, 252)
    assert torch.isfinite(out["score"]).all()


def test_attention_of_each_view_sums_to_one(student):
    with torch.no_grad():
        att = student(torch.randn(2, 3, 200, 300))["attention"]
    assert torch.allclose(att.sum(dim=(2, 3)), torch.ones(2, student.config.views), atol=1e-5)
    assert (att >= 0).all()


def test_score_is_the_fusion_of_the_reported_opinions_and_maps(student):
    with torch.no_grad():
        out = student(torch.randn(2, 3, 160, 224))
    weights = out["fusion_weights"]
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert torch.allclose(out["score"], (weights * out["opinions"]).sum(-1), atol=1e-4)
    # Each opinion is the attention-weighted local quality of its view, on 0-100.
    from_maps = 100 * (out["attention"] * out["quality"]).sum(dim=(2, 3))
    assert torch.allclose(out["opinions"], from_maps, atol=1e-3)
    # The distortion map is one minus the fusion-weighted local quality.
    fused_q = (weights[:, :, None, None] * out["quality"]).sum(1, keepdim=True)
    assert torch.allclose(out["distortion"], 1 - fused_q, atol=1e-5)
    assert ((out["score"] >= 0) & (out["score"] <= 100)).all()


def test_gradients_reach_every_trainable_parameter_group():
    torch.manual_seed(0)
    model = create_model("student", weights=None).train()
    out = model(torch.randn(2, 3, 128, 160))
    loss = out["score"].mean() + out["distortion"].mean() + view_diversity_loss(out["attention"])
    loss.backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    silent = [n for n, p in trainable.items() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not silent, f"no gradient for {silent[:5]}"
    groups = {n.split(".")[0] for n in trainable}
    assert groups == {"backbone", "lda", "mal", "fusion"}
    # The stem and first blocks are frozen by config.
    assert not model.backbone.conv_stem.weight.requires_grad
    assert model.backbone.blocks[2][0].conv_pw.weight.requires_grad


def test_diversity_loss_tells_identical_views_from_disjoint_ones():
    same = torch.softmax(torch.randn(1, 1, 64), -1).repeat(1, 3, 1).reshape(1, 3, 8, 8)
    disjoint = torch.zeros(1, 3, 8, 8)
    for v in range(3):
        disjoint[0, v, v, :] = 1 / 8
    assert view_diversity_loss(same).item() == pytest.approx(1.0, abs=1e-5)
    assert view_diversity_loss(disjoint).item() == pytest.approx(0.0, abs=1e-6)


def test_student_is_mobile_and_smaller_than_teacher():
    student = create_model("student", weights=None)
    teacher = create_model("teacher", weights=None)
    assert count_parameters(student) <= 6_000_000
    assert count_parameters(teacher) > count_parameters(student)

