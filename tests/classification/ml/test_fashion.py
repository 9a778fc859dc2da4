"""The from-scratch grayscale CNN on tiny generated 28x28 images."""

import torch
from PIL import Image

from classification.ml.artifacts import artifact_from_bytes, artifact_to_bytes
from classification.ml.fashion import (
    FashionConfig,
    FashionNet,
    fashion_artifact,
    predict_logits,
)
from classification.ml.fashion_training import augment, train_fashion
from classification.ml.inference import Classifier


def _bars(n: int, seed: int):
    """Class 0: a bright horizontal bar; class 1: a vertical one."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 28, 28, dtype=torch.uint8)
    labels = torch.arange(n) % 2
    for i in range(n):
        at = int(torch.randint(6, 22, (1,), generator=generator))
        if labels[i] == 0:
            images[i, at - 2 : at + 2, 4:24] = 230
        else:
            images[i, 4:24, at - 2 : at + 2] = 230
    return images, labels


def test_the_network_maps_28_pixel_images_to_logits_and_embeddings():
    model = FashionNet(10, widths=(8, 16, 32)).eval()
    x = torch.zeros(3, 1, 28, 28)
    assert model(x).shape == (3, 10)
    assert model.forward_features(x).shape == (3, 32)


def test_augmentation_shifts_and_mirrors_without_changing_shape():
    images, _ = _bars(16, 0)
    out = augment(images, shift=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert not torch.equal(out, images)
    # Only shifted and mirrored: no pixel value is invented.
    assert set(out.unique().tolist()) <= {0, 230}


def test_a_small_network_learns_bars_deterministically_and_classifies_photos():
    images, labels = _bars(128, 1)
    config = FashionConfig(epochs=3, batch_size=32, lr=0.05, widths=(8, 16, 32))
    model, history = train_fashion(
        images, labels, num_classes=2, config=config, seed=3, val=(images, labels)
    )
    assert history[-1]["val_accuracy"] >= 0.9
    again, _ = train_fashion(images, labels, num_classes=2, config=config, seed=3)
    first = predict_logits(model, images[:8])
    assert torch.allclose(first, predict_logits(again, images[:8]), atol=1e-5)

    artifact = fashion_artifact(
        model=model, classes=["horizontal", "vertical"], config=config, temperature=1.0
    )
    classifier = Classifier(
        artifact_from_bytes(artifact_to_bytes(artifact), sha256=None)
    )
    photos = [Image.fromarray(images[i].numpy(), "L") for i in range(8)]
    results = classifier.predict(photos, top_k=2)
    probabilities = torch.tensor(
        [dict(r.top_k)["horizontal"] for r in results], dtype=torch.float32
    )
    # The product's classifier sees what the trainer measured (mirror included).
    assert torch.allclose(probabilities, first.softmax(1)[:, 0], atol=1e-3)
    assert len(results[0].embedding) == 32
