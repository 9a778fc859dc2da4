import hashlib
import math
import uuid

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from classification.ml import registry
from classification.ml.architectures import get_architecture
from classification.ml.artifacts import (
    ArtifactChecksumError,
    artifact_from_bytes,
    artifact_to_bytes,
)
from classification.ml.efficientnet import default_artifact
from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES
from classification.ml.inference import Classifier, ImageResult
from classification.ml.presets import DEFAULT_PRESET

TAXONOMY = list(TAXONOMY_IMAGENET_CLASSES)


@pytest.fixture(scope="module")
def classifier():
    return Classifier(default_artifact(TAXONOMY))


@pytest.fixture(scope="module")
def coffee():
    return Image.fromarray(data.coffee())


@pytest.fixture(scope="module")
def cat():
    return Image.fromarray(data.chelsea())


def _linear_artifact(classes, *, temperature=1.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return {
        "format": 1,
        "architecture": "efficientnet_lite0",
        "classes": classes,
        "preprocessing": DEFAULT_PRESET,
        "head": {
            "type": "linear",
            "weight": torch.randn(len(classes), 1280, generator=generator) * 0.1,
            "bias": torch.zeros(len(classes)),
            "temperature": temperature,
        },
    }


def _assert_same_results(left: ImageResult, right: ImageResult):
    assert [slug for slug, _ in left.top_k] == [slug for slug, _ in right.top_k]
    np.testing.assert_allclose(
        [p for _, p in left.top_k], [p for _, p in right.top_k], atol=1e-5
    )
    np.testing.assert_allclose(left.embedding, right.embedding, atol=1e-4)


def test_coffee_photo_is_kitchen_drinkware(classifier, coffee):
    (result,) = classifier.predict([coffee])
    slug, probability = result.top_k[0]
    assert slug == "kitchen-drinkware"
    assert probability > 0.5


def test_cat_photo_gets_a_low_confidence(classifier, cat):
    # The ImageNet mass sits on cat classes, which map to no product slug.
    (result,) = classifier.predict([cat])
    assert result.top_k[0][1] < 0.05


def test_imagenet_map_probabilities_sum_to_at_most_one(classifier, coffee, cat):
    for result in classifier.predict([coffee, cat], top_k=len(TAXONOMY)):
        assert len(result.top_k) == len(TAXONOMY)
        assert sum(p for _, p in result.top_k) <= 1 + 1e-5


def test_results_are_plain_python_best_first(classifier, coffee):
    (result,) = classifier.predict([coffee], top_k=3)
    assert len(result.top_k) == 3
    assert all(
        isinstance(slug, str) and isinstance(p, float) for slug, p in result.top_k
    )
    probabilities = [p for _, p in result.top_k]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(result.embedding) == 1280
    assert all(isinstance(value, float) for value in result.embedding)


def test_top_k_is_capped_at_the_number_of_classes(coffee):
    classifier = Classifier(default_artifact(["footwear", "kitchen-drinkware"]))
    (result,) = classifier.predict([coffee], top_k=5)
    assert [slug for slug, _ in result.top_k] == ["kitchen-drinkware", "footwear"]


def test_batches_give_the_same_results_as_one_by_one(classifier, coffee, cat):
    images = [coffee, cat, coffee.rotate(90), cat.convert("L")]
    batched = classifier.predict(images, batch_size=3)
    singles = [classifier.predict([image])[0] for image in images]
    assert len(batched) == len(images)
    for left, right in zip(batched, singles, strict=True):
        _assert_same_results(left, right)


def test_embed_returns_the_pooled_features(classifier, coffee, cat):
    embeddings = classifier.embed([coffee, cat, coffee], batch_size=2)
    assert embeddings.shape == (3, 1280)
    assert embeddings.dtype == np.float32
    (result,) = classifier.predict([cat])
    np.testing.assert_allclose(embeddings[1], result.embedding, atol=1e-4)


def test_embed_of_no_images_is_empty(classifier):
    assert classifier.embed([]).shape == (0, 1280)


def test_transparent_areas_are_seen_as_white(classifier):
    transparent_black = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    white = Image.new("RGB", (300, 300), (255, 255, 255))
    np.testing.assert_allclose(
        classifier.embed([transparent_black]), classifier.embed([white]), atol=1e-5
    )


def test_linear_head_gives_probabilities_that_sum_to_one(coffee, cat):
    classes = ["mugs", "shoes", "lamps"]
    classifier = Classifier(_linear_artifact(classes))
    for result in classifier.predict([coffee, cat], top_k=3):
        probabilities = [p for _, p in result.top_k]
        assert all(0.0 <= p <= 1.0 for p in probabilities)
        assert math.isclose(sum(probabilities), 1.0, abs_tol=1e-5)
        assert {slug for slug, _ in result.top_k} == set(classes)


def test_higher_temperature_flattens_the_linear_head(coffee):
    classes = ["mugs", "shoes", "lamps"]
    sharp = Classifier(_linear_artifact(classes, temperature=0.5))
    soft = Classifier(_linear_artifact(classes, temperature=4.0))
    (sharp_result,) = sharp.predict([coffee])
    (soft_result,) = soft.predict([coffee])
    assert sharp_result.top_k[0][0] == soft_result.top_k[0][0]
    assert sharp_result.top_k[0][1] > soft_result.top_k[0][1]


def test_linear_head_of_the_wrong_shape_is_refused():
    artifact = _linear_artifact(["mugs", "shoes"])
    artifact["head"]["weight"] = torch.zeros(2, 512)
    with pytest.raises(ValueError, match="weight"):
        Classifier(artifact)


def test_backbone_state_overrides_pretrained_tensors(coffee):
    bias = torch.zeros(1000)
    bias[0] = 100.0  # tench, a fish: no product slug
    artifact = {
        **default_artifact(TAXONOMY),
        "backbone_state": {"classifier.bias": bias},
    }
    (result,) = Classifier(artifact).predict([coffee])
    assert result.top_k[0][1] < 1e-3


def test_unknown_backbone_keys_are_refused():
    artifact = {
        **default_artifact(TAXONOMY),
        "backbone_state": {"features.99.weight": torch.zeros(1)},
    }
    with pytest.raises(ValueError, match=r"features\.99\.weight"):
        Classifier(artifact)


def test_default_artifact_refuses_unknown_slugs():
    with pytest.raises(ValueError, match="stationery"):
        default_artifact(["apparel", "stationery"])


def test_artifact_round_trips_through_bytes():
    artifact = _linear_artifact(["mugs", "shoes"], temperature=1.5)
    data_bytes = artifact_to_bytes(artifact)
    loaded = artifact_from_bytes(
        data_bytes, sha256=hashlib.sha256(data_bytes).hexdigest()
    )
    assert loaded["classes"] == artifact["classes"]
    assert loaded["preprocessing"] == artifact["preprocessing"]
    assert loaded["head"]["temperature"] == 1.5
    torch.testing.assert_close(loaded["head"]["weight"], artifact["head"]["weight"])
    torch.testing.assert_close(loaded["head"]["bias"], artifact["head"]["bias"])


def test_default_artifact_loads_without_a_checksum():
    loaded = artifact_from_bytes(
        artifact_to_bytes(default_artifact(TAXONOMY)), sha256=None
    )
    assert loaded == default_artifact(TAXONOMY)


def test_checksum_mismatch_is_refused():
    data_bytes = artifact_to_bytes(default_artifact(TAXONOMY))
    with pytest.raises(ArtifactChecksumError, match="checksum mismatch"):
        artifact_from_bytes(data_bytes, sha256=hashlib.sha256(b"other").hexdigest())
    assert issubclass(ArtifactChecksumError, ValueError)


class _Store:
    """An artifact source that counts its reads."""

    def __init__(self, artifact):
        self.data = artifact_to_bytes(artifact)
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.reads = 0

    def load(self) -> bytes:
        self.reads += 1
        return self.data


def test_registry_loads_a_version_once():
    store, key = _Store(default_artifact(["footwear"])), uuid.uuid4().hex
    first = registry.get_classifier(key, store.load, store.sha256)
    second = registry.get_classifier(key, store.load, store.sha256)
    assert first is second
    assert store.reads == 1


def test_registry_keeps_only_the_most_recent_versions():
    stores = [_Store(default_artifact(["footwear"])) for _ in range(3)]
    keys = [uuid.uuid4().hex for _ in stores]
    for key, store in zip(keys, stores, strict=True):
        registry.get_classifier(key, store.load, store.sha256)
    registry.get_classifier(keys[2], stores[2].load, stores[2].sha256)
    registry.get_classifier(keys[0], stores[0].load, stores[0].sha256)
    assert [store.reads for store in stores] == [2, 1, 1]


def test_registry_refuses_bytes_that_fail_the_checksum():
    store = _Store(default_artifact(["footwear"]))
    with pytest.raises(ArtifactChecksumError):
        registry.get_classifier(uuid.uuid4().hex, store.load, "0" * 64)


def test_an_artifact_of_an_unknown_architecture_is_refused():
    artifact = {**default_artifact(TAXONOMY), "architecture": "resnet9000"}
    with pytest.raises(ValueError, match="unsupported architecture 'resnet9000'"):
        Classifier(artifact)


def test_each_architecture_is_found_by_the_name_its_artifacts_carry():
    for name in ("efficientnet_lite0", "fashion_cnn"):
        assert get_architecture(name).name == name


@pytest.mark.parametrize("name", ["coffee", "chelsea", "astronaut", "rocket"])
def test_a_large_jpeg_decoded_at_reduced_size_keeps_its_top_1(classifier, name):
    from imaging.decode import decode_image
    from tests.images import encode, photo

    small = photo(name)
    big = small.resize((small.width * 8, small.height * 8), Image.Resampling.BICUBIC)
    data = encode(big, "JPEG", quality=90)
    full = decode_image(data, max_pixels=100_000_000)
    reduced = decode_image(
        data, max_pixels=100_000_000, min_side=classifier.decode_min_side
    )
    assert reduced.width * 4 <= full.width
    assert min(reduced.width, reduced.height) >= classifier.decode_min_side
    (whole,), (drafted,) = (classifier.predict([d.image]) for d in (full, reduced))
    assert drafted.top_k[0][0] == whole.top_k[0][0]
    assert abs(drafted.top_k[0][1] - whole.top_k[0][1]) < 0.05
