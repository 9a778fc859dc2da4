"""Training heads and fine-tuning on tiny generated images with the real backbone."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from classification.ml.artifacts import artifact_from_bytes, artifact_to_bytes
from classification.ml.backbone import load_pretrained_backbone
from classification.ml.data import image_folder, stratified_split
from classification.ml.heads import HeadConfig, train_linear_head
from classification.ml.inference import Classifier
from classification.ml.training import train_classifier
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


def test_class_balanced_loss_finds_more_of_a_rare_class():
    # Two overlapping classes, 20 to 1: the plain loss gives the rare one only
    # the points far inside it; weighing it by its rarity draws a wider border.
    rng = np.random.default_rng(3)
    y = np.r_[np.zeros(400, np.int64), np.ones(20, np.int64)]
    shift = np.array([2.0, 0.0])
    x = (rng.normal(0, 1, (420, 2)) + np.outer(y, shift)).astype(np.float32)
    rare = (rng.normal(0, 1, (500, 2)) + shift).astype(np.float32)

    def rare_recall(class_balanced: bool) -> float:
        config = HeadConfig(max_steps=300, class_balanced=class_balanced)
        w, b, _ = train_linear_head(x, y, None, None, n_classes=2, config=config)
        return ((torch.as_tensor(rare) @ w.T + b).argmax(1) == 1).float().mean().item()

    assert HeadConfig().class_balanced is False
    plain, balanced = rare_recall(False), rare_recall(True)
    assert plain < 0.5
    assert balanced > 0.75


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


def test_fine_tuning_stops_when_validation_stops_improving_and_keeps_the_best(shapes):
    data, split = shapes
    # Validation photos labelled as the next class: the better the model learns
    # the training photos, the worse its validation loss gets.
    wrong = {c: data.classes[(i + 1) % 3] for i, c in enumerate(data.classes)}
    samples = [
        replace(s, label=wrong[s.label]) if i in split["val"] else s
        for i, s in enumerate(data.samples)
    ]
    config = HeadConfig(mode="finetune", epochs=8, batch_size=4, finetune_patience=2)
    result = train_classifier(samples, data.classes, split, config=config, seed=0)
    losses = [entry["val_loss"] for entry in result.history]
    best = losses.index(min(losses))
    assert len(losses) == best + 1 + 2 < 8
    # The metrics come from the kept epoch: its validation accuracy, not the last.
    assert result.metrics["val"]["accuracy"] == result.history[best]["val_accuracy"]


def test_training_without_a_readable_image_of_a_class_fails_clearly(shapes):
    data, split = shapes
    only_two = [i for i in split["train"] if data.samples[i].label != "red-circles"]
    with pytest.raises(ValueError, match="no readable training image for red-circles"):
        train_classifier(data.samples, data.classes, {**split, "train": only_two})


def test_an_interrupted_fine_tuning_resumes_to_the_same_weights(shapes, tmp_path):
    data, split = shapes
    config = HeadConfig(mode="finetune", epochs=3, batch_size=4)
    whole = train_classifier(data.samples, data.classes, split, config=config)
    path = tmp_path / "finetune.ckpt"

    def interrupt(entry):
        if entry["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_classifier(
            data.samples,
            data.classes,
            split,
            config=config,
            checkpoint=path,
            after_epoch=interrupt,
        )
    resumed = train_classifier(
        data.samples, data.classes, split, config=config, checkpoint=path
    )
    for key, value in whole.artifact["backbone_state"].items():
        assert torch.equal(resumed.artifact["backbone_state"][key], value), key
    assert torch.equal(
        resumed.artifact["head"]["weight"], whole.artifact["head"]["weight"]
    )
    assert resumed.history == whole.history
    assert resumed.metrics["test"] == whole.metrics["test"]
