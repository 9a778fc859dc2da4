"""Build a classifier from a model version's artifact and run it in batches.

An artifact is a plain dict, saved with ``torch.save`` and read back with
``weights_only=True``, so it holds only tensors, lists, dicts, strings and numbers::

    {"format": 1, "architecture": "efficientnet_lite0",
     "classes": [slug, ...],                  # the head's outputs, in order
     "preprocessing": {...},                  # a spec for presets.build_eval_transform
     "head": {"type": "imagenet_map"}
           | {"type": "linear", "weight": (C, 1280), "bias": (C,),
              "temperature": t},                # optional, 1.0 by default
     "backbone_state": {...}}                 # optional: fine-tuned backbone tensors

A second architecture, ``"fashion_cnn"`` (``classification.ml.fashion``), is a small
CNN trained from scratch on 28x28 grayscale images: its artifact adds
``"network": {...}`` (the layer widths), its ``preprocessing`` has
``"type": "grayscale"``, its head is ``{"type": "network", "temperature": t}`` (the
network's own classifier) and ``backbone_state`` holds all of its weights.

Other keys (metrics, a description of the training data) belong to whoever writes
the artifact and are ignored here. The SHA-256 of the saved bytes is the version's
checksum, verified on every load.
"""

import copy
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from catalog.images import to_rgb
from classification.ml.backbone import (
    EMBEDDING_DIM,
    EfficientNetLite0,
    load_pretrained_backbone,
)
from classification.ml.imagenet_map import imagenet_to_taxonomy_matrix
from classification.ml.presets import DEFAULT_PRESET, build_eval_transform

ARTIFACT_FORMAT = 1
ARCHITECTURE = "efficientnet_lite0"
FASHION_ARCHITECTURE = "fashion_cnn"
# Measured on 2 CPU cores: about 80 images/s at 4 a batch, 58 at 1, 50 at 16. Past
# 4 the activations outgrow the CPU cache and throughput falls.
DEFAULT_BATCH_SIZE = 4


class ArtifactChecksumError(ValueError):
    """The artifact's bytes do not match the checksum recorded for them."""


@dataclass(frozen=True)
class ImageResult:
    """One image's prediction: (slug, probability) best first, and its embedding."""

    top_k: list[tuple[str, float]]
    embedding: list[float]


class _ImagenetMapHead(nn.Module):
    """Sum the backbone's ImageNet softmax over each slug's ImageNet classes.

    The result is not renormalised over the mapped classes: probability left on
    unmapped ones (animals, scenes, people) means the photo is not clearly a
    product, so a cat photo gets low confidences for every slug rather than a
    confident wrong one.
    """

    def __init__(self, classifier: nn.Linear, matrix: Tensor) -> None:
        super().__init__()
        self.classifier = classifier
        self.register_buffer("matrix", matrix)

    def forward(self, features: Tensor) -> Tensor:
        return self.classifier(features).softmax(dim=1) @ self.matrix


class _LinearHead(nn.Module):
    """A trained linear layer on the pooled features; softmax at a temperature."""

    def __init__(self, weight: Tensor, bias: Tensor, temperature: float) -> None:
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0])
        self.linear.load_state_dict({"weight": weight, "bias": bias})
        self.temperature = temperature

    def forward(self, features: Tensor) -> Tensor:
        return (self.linear(features) / self.temperature).softmax(dim=1)


def _build_head(
    spec: dict[str, Any], backbone: EfficientNetLite0, classes: list[str]
) -> nn.Module:
    """Return the head module described by an artifact's ``head`` entry."""
    if spec["type"] == "imagenet_map":
        return _ImagenetMapHead(
            backbone.classifier, imagenet_to_taxonomy_matrix(classes)
        )
    if spec["type"] == "linear":
        for name, shape in {
            "weight": (len(classes), EMBEDDING_DIM),
            "bias": (len(classes),),
        }.items():
            if tuple(spec[name].shape) != shape:
                raise ValueError(
                    f"linear head {name} has shape {tuple(spec[name].shape)}, "
                    f"{len(classes)} classes need {shape}"
                )
        temperature = float(spec.get("temperature", 1.0))
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, not {temperature}")
        return _LinearHead(spec["weight"].float(), spec["bias"].float(), temperature)
    raise ValueError(f"unknown head type {spec['type']!r}")


def _fashion_parts(artifact: dict[str, Any]) -> tuple:
    """Return (transform, feature network, head) for a ``fashion_cnn`` artifact.

    The features are the mean of the image's and its mirror's when the spec asks
    for test-time flips: the classifier is linear, so this averages the logits.
    """
    from classification.ml.fashion import build_grayscale_transform, build_network

    classes, spec = artifact["classes"], artifact["preprocessing"]
    network = build_network(artifact.get("network", {}), len(classes))
    network.load_state_dict(artifact["backbone_state"])
    flip = spec.get("tta") == "hflip"

    def features(batch: Tensor) -> Tensor:
        out = network.forward_features(batch)
        if flip:
            out = (out + network.forward_features(batch.flip(-1))) / 2
        return out

    head = artifact["head"]
    if head.get("type") != "network":
        raise ValueError(f"unknown head type {head.get('type')!r} for fashion_cnn")
    classifier = network.classifier.state_dict()
    temperature = float(head.get("temperature", 1.0))
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, not {temperature}")
    network.eval()
    return (
        build_grayscale_transform(spec),
        features,
        _LinearHead(classifier["weight"], classifier["bias"], temperature),
    )


class Classifier:
    """A model version ready to classify: transform, backbone and head, in eval mode.

    Build one per process and reuse it (see ``classification.ml.registry``): the
    methods change no state, so threads may share it.
    """

    def __init__(self, artifact: dict[str, Any]) -> None:
        if artifact.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"unsupported artifact format {artifact.get('format')!r}")
        self.architecture = artifact.get("architecture")
        if self.architecture not in (ARCHITECTURE, FASHION_ARCHITECTURE):
            raise ValueError(f"unsupported architecture {self.architecture!r}")
        self.classes: list[str] = list(artifact["classes"])
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct and not empty: {self.classes}")
        self.preprocessing: dict[str, Any] = artifact["preprocessing"]
        if self.architecture == FASHION_ARCHITECTURE:
            self._transform, self._network_features, self._head = _fashion_parts(
                artifact
            )
            self._head.eval()
            return
        self._network_features = None
        self._transform = build_eval_transform(self.preprocessing)
        self._backbone = load_pretrained_backbone()
        if "backbone_state" in artifact:
            loaded = self._backbone.load_state_dict(
                artifact["backbone_state"], strict=False
            )
            if loaded.unexpected_keys:
                raise ValueError(f"unknown backbone keys: {loaded.unexpected_keys}")
        self._head = _build_head(artifact["head"], self._backbone, self.classes)
        # Channels-last convolutions measured about a third faster on 2 CPU cores.
        self._backbone.to(memory_format=torch.channels_last).eval()
        self._head.eval()

    def _features(self, images: Sequence[Image.Image]) -> Tensor:
        batch = torch.stack([self._transform(to_rgb(image)) for image in images])
        if self._network_features is not None:
            return self._network_features(batch)
        return self._backbone.forward_features(
            batch.contiguous(memory_format=torch.channels_last)
        )

    @torch.inference_mode()
    def predict(
        self,
        images: Sequence[Image.Image],
        *,
        top_k: int = 5,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> list[ImageResult]:
        """Classify ``images``, ``batch_size`` at a time; one result per image.

        With the ImageNet-mapped head a result's probabilities may sum to less than
        1: the rest went to ImageNet classes that are not products.
        """
        if top_k < 1 or batch_size < 1:
            raise ValueError("top_k and batch_size must be at least 1")
        k = min(top_k, len(self.classes))
        results = []
        for start in range(0, len(images), batch_size):
            features = self._features(images[start : start + batch_size])
            scores, indices = self._head(features).topk(k, dim=1)
            for embedding, row_scores, row_indices in zip(
                features.tolist(), scores.tolist(), indices.tolist(), strict=True
            ):
                top = zip(row_indices, row_scores, strict=True)
                results.append(
                    ImageResult(
                        top_k=[(self.classes[i], p) for i, p in top],
                        embedding=embedding,
                    )
                )
        return results

    @torch.inference_mode()
    def embed(
        self, images: Sequence[Image.Image], *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Return the pooled backbone features of ``images``, float32 (N, 1280).

        A ``fashion_cnn`` version returns its own, smaller embedding.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        chunks = [
            self._features(images[start : start + batch_size]).numpy()
            for start in range(0, len(images), batch_size)
        ]
        if not chunks:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return np.concatenate(chunks)


def default_artifact(slugs: list[str]) -> dict[str, Any]:
    """Return the artifact that maps ImageNet classes onto the taxonomy ``slugs``."""
    # Fail now on a slug the map does not know, not when a worker loads it.
    imagenet_to_taxonomy_matrix(slugs)
    return {
        "format": ARTIFACT_FORMAT,
        "architecture": ARCHITECTURE,
        "classes": list(slugs),
        "preprocessing": copy.deepcopy(DEFAULT_PRESET),
        "head": {"type": "imagenet_map"},
    }


def artifact_to_bytes(artifact: dict[str, Any]) -> bytes:
    """Serialise an artifact with ``torch.save``."""
    buffer = io.BytesIO()
    torch.save(artifact, buffer)
    return buffer.getvalue()


def artifact_from_bytes(data: bytes, *, sha256: str | None) -> dict[str, Any]:
    """Load an artifact, first checking its SHA-256 hex digest when one is given.

    Raise ArtifactChecksumError on a mismatch. Loading uses ``weights_only=True``,
    which refuses pickled code.
    """
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ArtifactChecksumError(
                f"artifact checksum mismatch: expected {sha256}, got {actual}"
            )
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
