"""A from-scratch CNN for small grayscale images (Fashion-MNIST, 28x28).

The network follows torchvision's conventions (``features``, pooling,
``classifier``; ``Conv2dNormActivation`` blocks) and is trained on CPU in minutes:

- three stages of 3x3 convolutions with batch norm and ReLU (widths 32, 64, 128
  by default), max-pooling between them, a residual pair in the last two stages;
- random shifts of up to 2 pixels and horizontal flips, drawn per image on whole
  batches (a DataLoader's per-image Python transforms would cost more than the
  convolutions on two cores);
- SGD with Nesterov momentum, a one-cycle learning rate, label smoothing and
  bfloat16 autocast (about 1.5x faster on CPUs with AVX-512 BF16, exact enough
  for training; weights and the optimiser stay in float32);
- predictions average the image and its mirror (test-time augmentation).
"""

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation
from torchvision.transforms import v2

ARCHITECTURE = "fashion_cnn"
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


def normalise(images: Tensor) -> Tensor:
    """uint8 (N, 28, 28) -> float (N, 1, 28, 28), standardised."""
    return ((images.float() / 255.0 - MEAN) / STD).unsqueeze(1)


def augment(images: Tensor, *, shift: int, generator: torch.Generator) -> Tensor:
    """Shift each image by up to ``shift`` pixels (zero fill) and mirror half."""
    n, h, w = images.shape
    padded = nn.functional.pad(images, (shift, shift, shift, shift))
    dy = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * shift + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    out = padded[torch.arange(n)[:, None, None], rows, cols]
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None], out.flip(-1), out)


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


def train_fashion(
    images: Tensor,
    labels: Tensor,
    *,
    num_classes: int,
    config: FashionConfig | None = None,
    seed: int = 0,
    val: tuple[Tensor, Tensor] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[FashionNet, list[dict[str, float]]]:
    """Train a FashionNet on uint8 images (N, 28, 28); return it and the history.

    The schedule is fixed in advance (one-cycle over ``epochs``), so there is no
    early stopping: the last epoch's weights are returned. With ``val``, its
    accuracy is measured after each epoch for the history. With a
    ``time_budget``, a few trial steps on a throwaway network measure this
    machine's speed and the epochs are cut to fit (never below 3); the
    schedule then covers the epochs that will really run.
    """
    config = copy.copy(config or FashionConfig())
    torch.set_num_threads(2)
    if config.time_budget:
        per_epoch = _seconds_per_epoch(len(images), num_classes, config)
        fit = int(config.time_budget // per_epoch)
        config.epochs = max(min(config.epochs, fit), 3)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = FashionNet(num_classes, widths=config.widths, residual=config.residual)
    decay, no_decay = [], []
    for parameter in model.parameters():
        # Batch-norm scales and biases are not weight-decayed.
        (no_decay if parameter.ndim == 1 else decay).append(parameter)
    optimiser = torch.optim.SGD(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
        momentum=config.momentum,
        nesterov=True,
    )
    steps_per_epoch = math.ceil(len(images) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=config.lr,
        total_steps=config.epochs * steps_per_epoch,
        pct_start=0.25,
        anneal_strategy="linear",
        div_factor=10,
        final_div_factor=100,
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    history = []
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total, seen = 0.0, 0
        for step, start in enumerate(range(0, len(images), config.batch_size), 1):
            idx = order[start : start + config.batch_size]
            x = normalise(augment(images[idx], shift=config.shift, generator=generator))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                loss = loss_fn(model(x), labels[idx])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
            seen += len(idx)
            if progress is not None and step % 20 == 0:
                progress(
                    (epoch - 1 + step / steps_per_epoch) / config.epochs,
                    f"epoch {epoch}/{config.epochs}",
                )
        entry = {
            "epoch": epoch,
            "train_loss": round(total / seen, 5),
            "seconds": round(time.perf_counter() - started, 1),
        }
        if val is not None and len(val[0]):
            logits = predict_logits(model, val[0], tta=False, bf16=config.bf16)
            entry["val_accuracy"] = round(
                (logits.argmax(1) == val[1]).float().mean().item(), 4
            )
        history.append(entry)
    return model.eval(), history


def _seconds_per_epoch(n: int, num_classes: int, config: FashionConfig) -> float:
    """Time a few training steps of a throwaway network; return seconds per epoch."""
    model = FashionNet(num_classes, widths=config.widths, residual=config.residual)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.zeros(config.batch_size, 1, SIZE, SIZE)
    y = torch.zeros(config.batch_size, dtype=torch.int64)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            loss = nn.functional.cross_entropy(model(x), y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    step()  # the first step allocates and picks kernels
    trials = 8
    started = time.perf_counter()
    for _ in range(trials):
        step()
    # Augmentation and bookkeeping add about 5 %.
    per_step = (time.perf_counter() - started) / trials * 1.05
    return per_step * math.ceil(n / config.batch_size)


def fashion_artifact(
    *,
    model: FashionNet,
    classes: list[str],
    config: FashionConfig,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """Return the artifact for ``classification.ml.inference.Classifier``."""
    from classification.ml.inference import ARTIFACT_FORMAT

    return {
        "format": ARTIFACT_FORMAT,
        "architecture": ARCHITECTURE,
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


def to_uint8(images: np.ndarray | Tensor) -> Tensor:
    return torch.as_tensor(np.asarray(images), dtype=torch.uint8)


@dataclass
class FashionResult:
    model: FashionNet
    classes: list[str]  # Fashion-MNIST's own class names
    config: FashionConfig  # as trained (epochs may have been cut to the budget)
    temperature: float
    metrics: dict[str, Any]
    history: list[dict[str, float]]
    split: dict[str, Any]
    training_seconds: float


def fashion_mnist_train(
    root: str,
    *,
    config: FashionConfig | None = None,
    seed: int = 0,
    val_size: int = 5000,
    target_precision: float = 0.97,
    progress: Callable[[float, str], None] | None = None,
) -> FashionResult:
    """Train on Fashion-MNIST's training set and measure on its test set.

    ``root`` holds ``FashionMNIST/raw/`` (see ``data.fashion_mnist_prepare``).
    ``val_size`` training images, stratified with ``seed``, are held out: the
    temperature and the review thresholds are chosen on them; the official test
    set is measured last and only once. ``training_seconds`` counts the training
    alone, not reading the files or measuring.
    """
    from classification.ml.data import fashion_mnist_load, stratified_split
    from classification.ml.training import summarise

    images, targets, names = fashion_mnist_load(root, train=True)
    test_images, test_targets, _ = fashion_mnist_load(root, train=False)
    # A small set (a test's) holds out a tenth at most.
    val_size = min(val_size, len(targets) // 10)
    split = stratified_split(
        targets.numpy(),
        val_fraction=val_size / len(targets),
        test_fraction=0.0,
        seed=seed,
    )
    train_idx = torch.as_tensor(split["train"])
    val_idx = torch.as_tensor(split["val"])
    config = copy.copy(config or FashionConfig())
    started = time.perf_counter()
    model, history = train_fashion(
        images[train_idx],
        targets[train_idx],
        num_classes=len(names),
        config=config,
        seed=seed,
        progress=progress,
    )
    seconds = time.perf_counter() - started
    config.epochs = len(history)
    val_logits = predict_logits(model, images[val_idx], bf16=config.bf16).numpy()
    test_logits = predict_logits(model, test_images, bf16=config.bf16).numpy()
    temperature, metrics = summarise(
        classes=names,
        val_logits=val_logits,
        y_val=targets[val_idx].numpy(),
        test_logits=test_logits,
        y_test=test_targets.numpy(),
        target_precision=target_precision,
    )
    return FashionResult(
        model=model,
        classes=names,
        config=config,
        temperature=temperature,
        metrics=metrics,
        history=history,
        split={
            "method": f"official test set; {val_size} training images held out "
            "per class (stratified) for calibration",
            "counts": {
                "train": len(train_idx),
                "val": len(val_idx),
                "test": len(test_targets),
            },
            "val_indices": split["val"],
        },
        training_seconds=seconds,
    )
