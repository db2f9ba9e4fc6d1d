"""The model registry: two architectures by name, configs as data, a config picks its network."""
import pytest
import torch

from models import (
    CONFIGS,
    IQANet,
    IQANetBase,
    MobileIQANet,
    PaperMobileIQANet,
    create_model,
    get_config,
    list_models,
    register_model,
)
from models.registry import model_class, resolve_config


def test_two_architectures_are_registered():
    assert list_models() == ["mobileiqa", "paper_mobileiqa"]
    assert MobileIQANet.model_name == "mobileiqa" and PaperMobileIQANet.model_name == "paper_mobileiqa"


def test_every_config_names_a_registered_architecture():
    assert model_class(get_config("student")) is MobileIQANet
    assert model_class(get_config("teacher")) is MobileIQANet
    assert model_class(get_config("paper")) is PaperMobileIQANet
    assert all(model_class(c).model_name in list_models() for c in CONFIGS.values())


def test_a_config_name_an_architecture_name_and_a_config_build_the_same_network():
    built = []
    for name_or_config in ("student", "mobileiqa", get_config("student")):
        torch.manual_seed(0)
        built.append(create_model(name_or_config, weights=None))
    assert all(type(m) is MobileIQANet and m.config == get_config("student") for m in built)
    first = built[0].state_dict()
    for other in built[1:]:
        assert all(torch.equal(first[k], v) for k, v in other.state_dict().items())
    assert resolve_config("paper_mobileiqa") == get_config("paper")


def test_keywords_override_config_fields():
    model = create_model("student", weights=None, damage_head=16, views=2)
    assert (model.config.damage_head, model.config.views) == (16, 2)
    assert get_config("student").damage_head == 0  # the stored config is untouched


def test_unknown_names_list_what_is_known():
    with pytest.raises(KeyError, match="student.*mobileiqa"):
        create_model("resnet50", weights=None)


def test_a_network_refuses_a_config_of_the_other_architecture():
    with pytest.raises(ValueError, match="'light' MAL"):
        MobileIQANet(get_config("paper"), weights=None)
    with pytest.raises(ValueError, match="'dense' MAL"):
        PaperMobileIQANet(get_config("student"), weights=None)
    with pytest.raises(ValueError, match="follows the input"):
        MobileIQANet(get_config("student").with_(fixed_grid=22), weights=None)


def test_names_are_not_taken_twice():
    class Another(IQANetBase):
        mal_kind = "other"

    for taken in ("mobileiqa", "student"):
        with pytest.raises(ValueError, match="taken"):
            register_model(taken, default_config="student")(Another)
    assert list_models() == ["mobileiqa", "paper_mobileiqa"]


def test_the_old_single_class_name_is_the_shared_type():
    assert IQANet is IQANetBase
    assert isinstance(create_model("student", weights=None), IQANet)
    with pytest.raises(TypeError, match="create_model"):
        IQANet(get_config("student"), weights=None)
