"""What a model version's artifact is, and what an architecture does with one.

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

Each architecture is an :class:`Architecture`: it writes its artifacts and builds a
runnable :class:`Network` from one. ``classification.ml.architectures`` finds them
by name.
"""

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from PIL import Image
from torch import Tensor, nn

ARTIFACT_FORMAT = 1
EFFICIENTNET_LITE0 = "efficientnet_lite0"
FASHION_CNN = "fashion_cnn"


class ArtifactChecksumError(ValueError):
    """The artifact's bytes do not match the checksum recorded for them."""


@dataclass(frozen=True)
class Network:
    """A model version's parts in eval mode: image -> tensor -> features -> scores.

    ``head`` returns probabilities (rows may sum to less than 1 for a head that
    leaves mass on classes outside the version's list). ``features`` and ``head``
    are modules without gradients, so the pair can be exported to a serving
    runtime (``classification.ml.runtime``). ``input_side`` is the shorter side,
    in pixels, that ``transform`` scales a photo to.
    """

    transform: Callable[[Image.Image], Tensor]
    features: nn.Module
    head: nn.Module
    embedding_dim: int
    input_side: int


class Architecture:
    """One architecture: its name, and how it runs the artifacts written for it."""

    name: ClassVar[str]

    def build(self, artifact: dict[str, Any]) -> Network:
        """Return the network ``artifact`` describes, ready for inference.

        Raise ValueError for an artifact this architecture cannot run.
        """
        raise NotImplementedError


def head_temperature(head: dict[str, Any]) -> float:
    """Return a head spec's softmax temperature (1.0 if absent); refuse t <= 0."""
    temperature = float(head.get("temperature", 1.0))
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, not {temperature}")
    return temperature


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
