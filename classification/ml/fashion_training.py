"""Train the Fashion-MNIST network (``classification.ml.fashion``) from scratch.

Random shifts of up to 2 pixels and horizontal flips are drawn per image on
whole batches (a DataLoader's per-image Python transforms would cost more than
the convolutions on two cores); SGD with Nesterov momentum, a one-cycle learning
rate, label smoothing and bfloat16 autocast (about 1.5x faster on CPUs with
AVX-512 BF16, exact enough for training; weights and the optimiser stay in
float32). The epochs run in the shared loop of ``classification.ml.loop``.
"""

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from classification.ml.artifacts import FASHION_CNN
from classification.ml.data import stratified_split
from classification.ml.evaluation import summarise
from classification.ml.fashion import (
    SIZE,
    FashionConfig,
    FashionNet,
    normalise,
    predict_logits,
)
from classification.ml.fashion_data import fashion_mnist_load
from classification.ml.loop import (
    Checkpoint,
    Entry,
    Trainee,
    digest,
    run_epochs,
    use_threads,
)


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


def train_fashion(
    images: Tensor,
    labels: Tensor,
    *,
    num_classes: int,
    config: FashionConfig | None = None,
    seed: int = 0,
    val: tuple[Tensor, Tensor] | None = None,
    progress: Callable[[float, str], None] | None = None,
    threads: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    after_epoch: Callable[[Entry], None] | None = None,
) -> tuple[FashionNet, list[Entry]]:
    """Train a FashionNet on uint8 images (N, 28, 28); return it and the history.

    The schedule is fixed in advance (one-cycle over ``epochs``), so there is no
    early stopping: the last epoch's weights are returned. With ``val``, its
    loss and accuracy are measured after each epoch for the history. With a
    ``time_budget``, a few trial steps on a throwaway network measure this
    machine's speed and the epochs are cut to fit (never below 3); the
    schedule then covers the epochs that will really run. With ``checkpoint``,
    the state after each epoch is saved there, and a training that finds one of
    its own resumes after that epoch (with the epochs it had chosen).
    """
    config = copy.copy(config or FashionConfig())
    use_threads(threads)
    has_val = val is not None and len(val[0]) > 0
    saved = None
    if checkpoint:
        fingerprint = {
            "trainer": FASHION_CNN,
            "config": config.as_dict(),
            "seed": seed,
            "classes": num_classes,
            "train": [digest(images), digest(labels)],
            "val": [digest(val[0]), digest(val[1])] if has_val else None,
        }
        checkpoint = Checkpoint(checkpoint, fingerprint=fingerprint)
        saved = checkpoint.read()
    if saved is not None:
        config.epochs = saved["epochs"]
    elif config.time_budget:
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
    trainee = Trainee(model, optimiser, schedule, generator)

    def train_epoch(epoch: int) -> Entry:
        model.train()
        order = torch.randperm(len(images), generator=generator)
        total, seen = 0.0, 0
        for step, start in enumerate(range(0, len(images), config.batch_size), 1):
            idx = order[start : start + config.batch_size]
            x = normalise(augment(images[idx], shift=config.shift, generator=generator))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                loss = loss_fn(model(x), labels[idx])
            total += trainee.step(loss) * len(idx)
            seen += len(idx)
            if progress is not None and step % 20 == 0:
                progress(
                    (epoch - 1 + step / steps_per_epoch) / config.epochs,
                    f"epoch {epoch}/{config.epochs}",
                )
        return {"epoch": epoch, "train_loss": round(total / seen, 5)}

    def validate() -> tuple[Tensor, Tensor]:
        return predict_logits(model, val[0], tta=False, bf16=config.bf16), val[1]

    history = run_epochs(
        trainee,
        epochs=config.epochs,
        train_epoch=train_epoch,
        validate=validate if has_val else None,
        timed=True,
        checkpoint=checkpoint,
        after_epoch=after_epoch,
    )
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
    threads: int | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> FashionResult:
    """Train on Fashion-MNIST's training set and measure on its test set.

    ``root`` holds ``FashionMNIST/raw/`` (see ``fashion_data.fashion_mnist_prepare``).
    ``val_size`` training images, stratified with ``seed``, are held out: the
    temperature and the review thresholds are chosen on them; the official test
    set is measured last and only once. ``training_seconds`` counts the training
    alone, not reading the files or measuring. ``threads`` and ``checkpoint`` are
    as for ``train_fashion``.
    """
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
        threads=threads,
        checkpoint=checkpoint,
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
