"""Training heads and fine-tuning on tiny generated images with the real backbone."""

import numpy as np
import pytest
import torch

from classification.ml.backbone import load_pretrained_backbone
from classification.ml.data import image_folder, stratified_split
from classification.ml.inference import (
    Classifier,
    artifact_from_bytes,
    artifact_to_bytes,
)
from classification.ml.training import HeadConfig, train_classifier, train_linear_head
from tests.classification.synthetic import shape_image, shapes_folder


def _blobs(seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    centres = rng.normal(0, 3, (3, 16))
    return (centres[y] + rng.normal(0, 1, (n, 16))).astype(np.float32), y


def test_a_linear_head_separates_separable_features_and_is_deterministic():
    x, y = _blobs(0)
    xv, yv = _blobs(0, 30)
    config = HeadConfig(max_steps=200)
    w1, b1, history = train_linear_head(
        x, y, xv, yv, n_classes=3, config=config, seed=7
    )
    w2, b2, _ = train_linear_head(x, y, xv, yv, n_classes=3, config=config, seed=7)
    assert torch.equal(w1, w2) and torch.equal(b1, b2)
    logits = torch.as_tensor(xv) @ w1.T + b1
    assert (logits.argmax(1).numpy() == yv).mean() == 1.0
    assert history[-1]["val_accuracy"] == 1.0


def test_class_balanced_loss_keeps_a_rare_class(tmp_path):
    x, y = _blobs(1, 90)
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:3]]
    w, b, _ = train_linear_head(
        x[keep], y[keep], None, None, n_classes=3, config=HeadConfig(max_steps=200)
    )
    rare = x[y == 2]
    assert ((torch.as_tensor(rare) @ w.T + b).argmax(1) == 2).float().mean() > 0.9


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = shapes_folder(tmp_path_factory.mktemp("shapes"), per_class=6)
    (root / "red-circles" / "broken.png").write_bytes(b"not a png")
    data = image_folder(root)
    split = stratified_split(data.labels(), val_fraction=0.2, test_fraction=0.2, seed=0)
    return data, split


def test_a_head_trained_on_shapes_classifies_new_shapes(shapes):
    data, split = shapes
    result = train_classifier(data.samples, data.classes, split, seed=0)
    assert result.metrics["accuracy"] >= 0.99
    assert result.metrics["measured_on"] == "test"
    assert result.metrics["skipped"]["count"] == 1
    assert result.metrics["skipped"]["examples"][0]["reason"] == "not an image"
    assert set(result.metrics["thresholds"]["per_class"]) == set(data.classes)
    assert result.metrics["test"]["confusion_matrix"]
    # The artifact survives a round trip and classifies images it never saw.
    artifact = artifact_from_bytes(artifact_to_bytes(result.artifact), sha256=None)
    classifier = Classifier(artifact)
    predictions = classifier.predict(
        [shape_image("blue-squares", 4242), shape_image("green-triangles", 4243)]
    )
    assert [p.top_k[0][0] for p in predictions] == ["blue-squares", "green-triangles"]
    # Same seed, same data: the same weights.
    again = train_classifier(data.samples, data.classes, split, seed=0)
    assert torch.equal(
        again.artifact["head"]["weight"], result.artifact["head"]["weight"]
    )


def test_fine_tuning_trains_the_last_stages_and_ships_them(shapes):
    data, split = shapes
    config = HeadConfig(mode="finetune", epochs=3, batch_size=4)
    result = train_classifier(data.samples, data.classes, split, config=config, seed=0)
    state = result.artifact["backbone_state"]
    trained = {key.split(".")[1] for key in state}
    assert trained == {"4", "5", "6", "7", "8"}
    pretrained = load_pretrained_backbone().state_dict()
    assert not torch.equal(
        state["features.4.0.expand.0.weight"],
        pretrained["features.4.0.expand.0.weight"],
    )
    assert result.metrics["skipped"]["count"] == 1
    classifier = Classifier(
        artifact_from_bytes(artifact_to_bytes(result.artifact), sha256=None)
    )
    top = classifier.predict([shape_image("red-circles", 5151)])[0].top_k
    assert top[0][0] == "red-circles"
    assert len(result.history) == 3
    # Same seed, same data: the same fine-tuned weights, augmentation included.
    again = train_classifier(data.samples, data.classes, split, config=config, seed=0)
    assert torch.equal(
        again.artifact["backbone_state"]["features.8.0.weight"],
        state["features.8.0.weight"],
    )


def test_training_without_a_readable_image_of_a_class_fails_clearly(shapes):
    data, split = shapes
    only_two = [i for i in split["train"] if data.samples[i].label != "red-circles"]
    with pytest.raises(ValueError, match="no readable training image for red-circles"):
        train_classifier(data.samples, data.classes, {**split, "train": only_two})
