"""Build a classifier from a model version's artifact and run it in batches.

The artifact's format is described in ``classification.ml.artifacts``; its
``architecture`` names the object (``classification.ml.architectures``) that
builds the transform, the feature network and the head from it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from classification.ml.architectures import get_architecture
from classification.ml.artifacts import ARTIFACT_FORMAT, Network
from classification.ml.backbone import DEFAULT_BATCH_SIZE
from classification.ml.runtime import ONNXRUNTIME, PYTORCH, OnnxSession
from imaging.colour import to_rgb


@dataclass(frozen=True)
class ImageResult:
    """One image's prediction: (slug, probability) best first, and its embedding."""

    top_k: list[tuple[str, float]]
    embedding: list[float]


class Classifier:
    """A model version ready to classify: transform, network and head, in eval mode.

    Build one per process and reuse it (see ``classification.ml.registry``): the
    methods change no state, so threads may share it. Given ``served``, the
    version's ONNX export (``classification.ml.runtime``), the network runs in
    ONNX Runtime on ``threads`` threads; otherwise in PyTorch. ``runtime`` says
    which.
    """

    def __init__(
        self, artifact: dict[str, Any], *, served: bytes | None = None, threads: int = 1
    ) -> None:
        if artifact.get("format") != ARTIFACT_FORMAT:
            raise ValueError(f"unsupported artifact format {artifact.get('format')!r}")
        self.architecture = artifact.get("architecture")
        architecture = get_architecture(self.architecture)
        self.classes: list[str] = list(artifact["classes"])
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes must be distinct and not empty: {self.classes}")
        self.preprocessing: dict[str, Any] = artifact["preprocessing"]
        self._network = architecture.build(artifact)
        self._session = OnnxSession(served, threads=threads) if served else None
        self.runtime = ONNXRUNTIME if self._session else PYTORCH

    @property
    def network(self) -> Network:
        """The PyTorch network, whichever runtime serves the predictions."""
        return self._network

    @property
    def decode_min_side(self) -> int:
        """The shorter side a photo may be decoded down to without changing what
        the network sees: twice the side the transform resizes to."""
        return 2 * self._network.input_side

    def _run(self, images: Sequence[Image.Image]) -> tuple[Tensor, Tensor]:
        """Return (embeddings, probabilities) of ``images``."""
        transform = self._network.transform
        batch = torch.stack([transform(to_rgb(image)) for image in images])
        if self._session is not None:
            return self._session(batch)
        features = self._network.features(batch)
        return features, self._network.head(features)

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
            features, probabilities = self._run(images[start : start + batch_size])
            scores, indices = probabilities.topk(k, dim=1)
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
        """Return the pooled features of ``images``, float32 (N, embedding size).

        The size is the backbone's 1280; a ``fashion_cnn`` version's is smaller.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        chunks = [
            self._run(images[start : start + batch_size])[0].numpy()
            for start in range(0, len(images), batch_size)
        ]
        if not chunks:
            return np.zeros((0, self._network.embedding_dim), dtype=np.float32)
        return np.concatenate(chunks)
