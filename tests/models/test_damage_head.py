"""The map-only damage head: its map is a separate output, and training it cannot move the score."""
import pytest

torch = pytest.importorskip("torch")

from models import contract_outputs, create_model, get_config  # noqa: E402


def _pair():
    torch.manual_seed(0)
    plain = create_model("student", weights=None).eval()
    headed = create_model(get_config("student").with_(damage_head=16), weights=None).eval()
    missing, unexpected = headed.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("damage_head.") for k in missing)
    return plain, headed


def test_a_damage_head_leaves_every_score_output_as_it_was():
    plain, headed = _pair()
    x = torch.randn(1, 3, 97, 130)
    with torch.no_grad():
        a, b = plain(x), headed(x)
    for key in ("score", "opinions", "attention", "distortion", "embedding", "fusion_weights"):
        assert torch.equal(a[key], b[key]), key
    assert "damage" not in a
    assert b["damage"].shape == b["distortion"].shape == (1, 1, 7, 9)  # one cell per 16 px, odd sizes
    assert 0 <= float(b["damage"].min()) and float(b["damage"].max()) <= 1
    assert contract_outputs(headed)[-1] == "damage" and "damage" not in contract_outputs(plain)


def test_training_the_damage_map_reaches_no_weight_of_the_score():
    _, headed = _pair()
    headed.train()
    headed(torch.randn(2, 3, 64, 64))["damage"].mean().backward()
    moved = {name for name, p in headed.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert moved and all(name.startswith("damage_head.") for name in moved)


def test_the_paper_configuration_refuses_a_damage_head():
    with pytest.raises(ValueError, match="light MAL"):
        create_model(get_config("paper").with_(damage_head=16), weights=None)
