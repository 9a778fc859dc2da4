"""The ``efficientnet_lite0`` architecture: the pretrained backbone and a head.

Its artifacts carry the eval preprocessing, a head (the ImageNet classes mapped
onto the taxonomy, or a trained linear layer) and, after fine-tuning, the
backbone tensors that differ from the pretrained ones.
"""

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from classification.ml.artifacts import (
    ARTIFACT_FORMAT,
    EFFICIENTNET_LITE0,
    Architecture,
    Network,
    head_temperature,
)
from classification.ml.backbone import (
    EMBEDDING_DIM,
    EfficientNetLite0,
    load_pretrained_backbone,
)
from classification.ml.heads import LinearHead
from classification.ml.imagenet_map import imagenet_to_taxonomy_matrix
from classification.ml.presets import DEFAULT_PRESET, build_eval_transform


class ImagenetMapHead(nn.Module):
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


class ChannelsLastFeatures(nn.Module):
    """The backbone's pooled embedding, computed in channels-last memory order.

    Channels-last convolutions measured about a third faster on 2 CPU cores.
    """

    def __init__(self, backbone: EfficientNetLite0) -> None:
        super().__init__()
        self.backbone = backbone.to(memory_format=torch.channels_last)

    def forward(self, batch: Tensor) -> Tensor:
        return self.backbone.forward_features(
            batch.contiguous(memory_format=torch.channels_last)
        )


def _linear_head(spec: dict[str, Any], classes: list[str]) -> LinearHead:
    for name, shape in {
        "weight": (len(classes), EMBEDDING_DIM),
        "bias": (len(classes),),
    }.items():
        if tuple(spec[name].shape) != shape:
            raise ValueError(
                f"linear head {name} has shape {tuple(spec[name].shape)}, "
                f"{len(classes)} classes need {shape}"
            )
    temperature = head_temperature(spec)
    return LinearHead(spec["weight"].float(), spec["bias"].float(), temperature)


class EfficientNetLite0Architecture(Architecture):
    name = EFFICIENTNET_LITE0

    def build(self, artifact: dict[str, Any]) -> Network:
        classes = list(artifact["classes"])
        backbone = load_pretrained_backbone()
        if "backbone_state" in artifact:
            loaded = backbone.load_state_dict(artifact["backbone_state"], strict=False)
            if loaded.unexpected_keys:
                raise ValueError(f"unknown backbone keys: {loaded.unexpected_keys}")
        head = self._head(artifact["head"], backbone, classes)
        return Network(
            transform=build_eval_transform(artifact["preprocessing"]),
            features=ChannelsLastFeatures(backbone).eval().requires_grad_(False),
            head=head.eval().requires_grad_(False),
            embedding_dim=EMBEDDING_DIM,
            input_side=int(artifact["preprocessing"]["resize"]),
        )

    @staticmethod
    def _head(
        spec: dict[str, Any], backbone: EfficientNetLite0, classes: list[str]
    ) -> nn.Module:
        """Return the head module described by an artifact's ``head`` entry."""
        if spec["type"] == "imagenet_map":
            return ImagenetMapHead(
                backbone.classifier, imagenet_to_taxonomy_matrix(classes)
            )
        if spec["type"] == "linear":
            return _linear_head(spec, classes)
        raise ValueError(f"unknown head type {spec['type']!r}")


def default_artifact(slugs: list[str]) -> dict[str, Any]:
    """Return the artifact that maps ImageNet classes onto the taxonomy ``slugs``."""
    # Fail now on a slug the map does not know, not when a worker loads it.
    imagenet_to_taxonomy_matrix(slugs)
    return {
        "format": ARTIFACT_FORMAT,
        "architecture": EFFICIENTNET_LITE0,
        "classes": list(slugs),
        "preprocessing": copy.deepcopy(DEFAULT_PRESET),
        "head": {"type": "imagenet_map"},
    }


def linear_artifact(
    *,
    classes: Sequence[str],
    weight: Tensor,
    bias: Tensor,
    temperature: float = 1.0,
    preprocessing: dict | None = None,
    backbone_state: dict[str, Tensor] | None = None,
) -> dict[str, Any]:
    """Return the artifact of a trained linear head (and fine-tuned stages)."""
    artifact = {
        "format": ARTIFACT_FORMAT,
        "architecture": EFFICIENTNET_LITE0,
        "classes": list(classes),
        "preprocessing": copy.deepcopy(preprocessing or DEFAULT_PRESET),
        "head": {
            "type": "linear",
            "weight": weight.detach().float().contiguous(),
            "bias": bias.detach().float().contiguous(),
            "temperature": float(temperature),
        },
    }
    if backbone_state:
        artifact["backbone_state"] = backbone_state
    return artifact
