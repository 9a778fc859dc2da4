"""A from-scratch CNN for small grayscale images (Fashion-MNIST, 28x28).

The network follows torchvision's conventions (``features``, pooling,
``classifier``; ``Conv2dNormActivation`` blocks): three stages of 3x3
convolutions with batch norm and ReLU (widths 32, 64, 128 by default),
max-pooling between them, a residual pair in the last two stages. It trains on
CPU in minutes (``classification.ml.fashion_training``); predictions average the
image and its mirror (test-time augmentation).

Its artifacts are the architecture ``fashion_cnn``: the whole network's weights,
its layer widths and the grayscale preprocessing.
"""

import copy
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation
from torchvision.transforms import v2

from classification.ml.artifacts import (
    ARTIFACT_FORMAT,
    FASHION_CNN,
    Architecture,
    Network,
    head_temperature,
)
from classification.ml.heads import LinearHead

# Fashion-MNIST's pixel mean and standard deviation (training set, scaled to 0-1).
MEAN, STD = 0.2860, 0.3530
SIZE = 28


def _block(in_channels: int, out_channels: int) -> Conv2dNormActivation:
    return Conv2dNormActivation(in_channels, out_channels, 3, bias=False)


class _Residual(nn.Module):
    """Two 3x3 blocks with an identity shortcut (ResNet's basic block, pre-added)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _block(channels, channels), _block(channels, channels)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class FashionNet(nn.Module):
    """Conv stages at 28, 14 and 7 pixels, global max pooling, a linear classifier."""

    def __init__(
        self,
        num_classes: int = 10,
        *,
        widths: tuple[int, int, int] = (32, 64, 128),
        residual: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        w1, w2, w3 = widths
        tail2 = _Residual(w2) if residual else _block(w2, w2)
        tail3 = _Residual(w3) if residual else _block(w3, w3)
        self.features = nn.Sequential(
            _block(1, w1),
            _block(w1, w1),
            nn.MaxPool2d(2),
            _block(w1, w2),
            tail2,
            nn.MaxPool2d(2),
            _block(w2, w3),
            tail3,
        )
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(w3, num_classes)
        self.embedding_dim = w3

    def forward_features(self, x: Tensor) -> Tensor:
        """Return the pooled embedding, shape (N, widths[-1])."""
        return torch.flatten(self.pool(self.features(x)), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.dropout(self.forward_features(x)))


@dataclass
class FashionConfig:
    epochs: int = 15
    batch_size: int = 256
    lr: float = 0.2
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    widths: tuple[int, int, int] = (32, 64, 128)
    residual: bool = False
    shift: int = 2
    bf16: bool = True
    # When set, the number of epochs is cut so that training fits in this many
    # seconds, from the speed of a short trial run (see train_fashion).
    time_budget: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["widths"] = list(self.widths)
        return data

    def network(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "residual": self.residual}


def build_network(spec: dict[str, Any], num_classes: int) -> FashionNet:
    """Return the untrained network an artifact's ``network`` entry describes."""
    return FashionNet(
        num_classes,
        widths=tuple(spec.get("widths", (32, 64, 128))),
        residual=bool(spec.get("residual", False)),
    )


def build_grayscale_transform(spec: dict[str, Any]) -> v2.Compose:
    """Return the transform from a PIL image to a standardised (1, size, size) tensor.

    Photos are squeezed to the square without cropping: Fashion-MNIST shows the
    whole garment, centred.
    """
    steps: list[Any] = [
        v2.Grayscale(1),
        v2.Resize((spec["size"], spec["size"]), antialias=True),
        v2.ToImage(),
    ]
    if spec.get("invert"):
        steps.append(v2.RandomInvert(p=1.0))
    steps += [
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(mean=[spec["mean"]], std=[spec["std"]]),
    ]
    return v2.Compose(steps)


class FashionCnnArchitecture(Architecture):
    name = FASHION_CNN

    def build(self, artifact: dict[str, Any]) -> Network:
        """Return the network, with the classifier as the head.

        The features are the mean of the image's and its mirror's when the spec
        asks for test-time flips: the classifier is linear, so this averages the
        logits.
        """
        classes, spec = artifact["classes"], artifact["preprocessing"]
        network = build_network(artifact.get("network", {}), len(classes))
        network.load_state_dict(artifact["backbone_state"])
        flip = spec.get("tta") == "hflip"
        head = artifact["head"]
        if head.get("type") != "network":
            raise ValueError(f"unknown head type {head.get('type')!r} for {self.name}")
        classifier = network.classifier.state_dict()
        temperature = head_temperature(head)
        network.eval()
        return Network(
            transform=build_grayscale_transform(spec),
            features=_Features(network, flip=flip).eval().requires_grad_(False),
            head=LinearHead(classifier["weight"], classifier["bias"], temperature)
            .eval()
            .requires_grad_(False),
            embedding_dim=network.embedding_dim,
            input_side=int(spec["size"]),
        )


class _Features(nn.Module):
    """The network's pooled features; with ``flip``, averaged with its mirror's."""

    def __init__(self, network: FashionNet, *, flip: bool) -> None:
        super().__init__()
        self.network = network
        self.flip = flip

    def forward(self, batch: Tensor) -> Tensor:
        out = self.network.forward_features(batch)
        if self.flip:
            out = (out + self.network.forward_features(batch.flip(-1))) / 2
        return out


def normalise(images: Tensor) -> Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28), standardised."""
    return ((images.float() / 255.0 - MEAN) / STD).unsqueeze(1)


@torch.inference_mode()
def predict_logits(
    model: FashionNet,
    images: Tensor,
    *,
    batch_size: int = 1000,
    tta: bool = True,
    bf16: bool = False,
) -> Tensor:
    """Return float32 logits for uint8 images (N, 28, 28); with ``tta``, the mean
    of the logits for each image and its mirror."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = normalise(images[start : start + batch_size])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x).float()
            if tta:
                logits = (logits + model(x.flip(-1)).float()) / 2
        out.append(logits)
    return torch.cat(out) if out else torch.zeros(0, model.classifier.out_features)


def fashion_artifact(
    *,
    model: FashionNet,
    classes: list[str],
    config: FashionConfig,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Return the artifact for ``classification.ml.inference.Classifier``."""
    return {
        "format": ARTIFACT_FORMAT,
        "architecture": FASHION_CNN,
        "network": config.network(),
        "classes": list(classes),
        "preprocessing": {
            "type": "grayscale",
            "size": SIZE,
            "mean": MEAN,
            "std": STD,
            # Fashion-MNIST shows light garments on black; a photo of a dark
            # garment on white is inverted first when this is true.
            "invert": False,
            "tta": "hflip",
        },
        "head": {"type": "network", "temperature": float(temperature)},
        "backbone_state": copy.deepcopy(model.state_dict()),
    }
