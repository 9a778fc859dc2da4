"""The ONNX export serves what PyTorch computes, and the check catches an export
that does not."""

import numpy as np
import pytest
import torch

from classification.ml.efficientnet import default_artifact
from classification.ml.fashion import FashionConfig, FashionNet, fashion_artifact
from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES
from classification.ml.inference import Classifier
from classification.ml.runtime import (
    OnnxSession,
    check_export,
    export_onnx,
    probe_images,
)
from tests.images import photo

TAXONOMY = list(TAXONOMY_IMAGENET_CLASSES)


@pytest.fixture(scope="module")
def network():
    return Classifier(default_artifact(TAXONOMY))._network


@pytest.fixture(scope="module")
def exported(network):
    return export_onnx(network, torch.zeros(2, 3, 224, 224))


@pytest.fixture(scope="module")
def photos():
    return [photo(name) for name in ("coffee", "chelsea", "astronaut", "rocket")]


def test_the_export_agrees_with_pytorch_on_photos_and_probes(network, exported, photos):
    check = check_export(
        network, OnnxSession(exported, threads=1), photos + probe_images(8)
    )
    assert check.photos == 12
    assert check.top1_agreement == 1.0
    assert check.max_probability_difference < 1e-4
    assert check.max_embedding_difference < 1e-3
    assert check.agrees and check.as_dict()["agrees"] is True


def test_the_served_classifier_gives_pytorchs_results(exported, photos):
    eager = Classifier(default_artifact(TAXONOMY))
    served = Classifier(default_artifact(TAXONOMY), served=exported, threads=1)
    assert (eager.runtime, served.runtime) == ("pytorch", "onnxruntime")
    for left, right in zip(eager.predict(photos), served.predict(photos), strict=True):
        assert [s for s, _ in left.top_k] == [s for s, _ in right.top_k]
        np.testing.assert_allclose(
            [p for _, p in left.top_k], [p for _, p in right.top_k], atol=1e-4
        )
        np.testing.assert_allclose(left.embedding, right.embedding, atol=1e-3)
    assert served.predict(photos[:1])[0].top_k[0][0] == "kitchen-drinkware"


def test_a_corrupted_export_is_caught_by_the_check(network, exported, photos):
    # Bit rot in the stored file: the ImageNet classifier's weights, found
    # verbatim in the ONNX file, come back shuffled by one class.
    weight = network.head.classifier.weight.detach().numpy()
    start = exported.find(weight.tobytes()[:4096])
    assert start > 0
    rotten = bytearray(exported)
    rotten[start : start + weight.nbytes] = np.roll(weight, 1, axis=0).tobytes()
    check = check_export(network, OnnxSession(bytes(rotten), threads=1), photos)
    assert not check.agrees
    assert check.top1_agreement < 0.995 or check.max_probability_difference > 1e-3


def test_the_fashion_cnn_exports_too():
    torch.manual_seed(0)
    classes = [f"c{i}" for i in range(10)]
    artifact = fashion_artifact(
        model=FashionNet(10, widths=(8, 8, 8)).eval(),
        classes=classes,
        config=FashionConfig(widths=(8, 8, 8)),
    )
    network = Classifier(artifact)._network
    exported = export_onnx(network, torch.zeros(2, 1, 28, 28))
    check = check_export(network, OnnxSession(exported, threads=1), probe_images(6))
    assert check.agrees, check


def test_no_photos_never_counts_as_agreement(network, exported):
    assert not check_export(network, OnnxSession(exported, threads=1), []).agrees


def test_probe_images_are_deterministic_and_varied():
    first, again = probe_images(4), probe_images(4)
    assert [np.asarray(i).tobytes() for i in first] == [
        np.asarray(i).tobytes() for i in again
    ]
    assert len({image.size for image in first}) > 1
