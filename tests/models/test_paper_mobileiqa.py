"""PaperMobileIQANet, the authors' network kept as a reference for benchmarks (config paper)."""
import pytest
import torch

from models import CONTRACT_OUTPUTS, PaperMobileIQANet, count_parameters, create_model, get_config


@pytest.mark.slow
def test_paper_config_has_the_published_dimensions():
    model = create_model("paper", weights=None).eval()
    assert isinstance(model, PaperMobileIQANet) and model.stride is None
    # The authors' dense MALs make their "mobile" student ~81 M parameters.
    assert 78e6 < count_parameters(model) < 84e6
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 320))
    assert out["attention"].shape == (1, 3, 22, 22)  # fixed grid, whatever the input
    assert set(CONTRACT_OUTPUTS) <= set(out)


def test_the_dense_mal_needs_a_fixed_grid():
    with pytest.raises(ValueError, match="fixed grid"):
        PaperMobileIQANet(get_config("paper").with_(fixed_grid=None), weights=None)
