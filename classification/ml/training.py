"""Train a product classifier on the pretrained EfficientNet-Lite0.

Two modes, both ending in a linear head on the backbone's 1280-d features, saved
as an ``efficientnet_lite0`` artifact:

- ``head``: the backbone is frozen; its features are computed once per image (or
  reused from the catalog's cached embeddings, ``classification.ml.features``)
  and a softmax regression is trained on them (``classification.ml.heads``).
- ``finetune``: the last stages are trained too, on images augmented anew each
  epoch (``classification.ml.finetune``).

Training is deterministic for a given seed, data order and thread count; with a
checkpoint path it resumes after the last epoch an interrupted run completed.
"""

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from classification.ml.backbone import load_pretrained_backbone
from classification.ml.data import Sample
from classification.ml.efficientnet import linear_artifact
from classification.ml.evaluation import summarise
from classification.ml.features import FeatureSet, extract_features
from classification.ml.finetune import (
    FINETUNE_FROM,
    as_maps,
    finetune_tail,
    read_training_images,
    tail_backbone_state,
    tail_logits,
)
from classification.ml.heads import HeadConfig, train_linear_head
from classification.ml.loop import (
    Entry,
    Progress,
    no_progress,
    seed_everything,
    use_threads,
)


@dataclass
class TrainResult:
    artifact: dict[str, Any]
    metrics: dict[str, Any]
    history: list[Entry]
    seconds: float


def train_classifier(
    samples: Sequence[Sample],
    classes: Sequence[str],
    split: dict[str, list[int]],
    *,
    config: HeadConfig | None = None,
    seed: int = 0,
    cached: dict[int, np.ndarray] | None = None,
    progress: Progress = no_progress,
    threads: int | None = None,
    checkpoint: str | os.PathLike | None = None,
    after_epoch: Callable[[Entry], None] | None = None,
) -> TrainResult:
    """Train on ``split["train"]``, calibrate on ``val``, measure on ``test``.

    ``split`` holds indices into ``samples``; ``cached`` maps sample indices to
    stored pretrained features (``head`` mode only). Unreadable images are
    skipped; their sources and reasons are in ``metrics["skipped"]``. ``threads``
    is torch's CPU thread count (None keeps the current one). With
    ``checkpoint``, the training's state is saved at that path after each epoch
    (``after_epoch`` is told of each), and a training that finds its own
    checkpoint there resumes after that epoch, ending as if never interrupted.
    """
    config = config or HeadConfig()
    if config.mode not in ("head", "finetune"):
        raise ValueError(f"unknown training mode {config.mode!r}")
    use_threads(threads)
    seed_everything(seed)
    started = time.perf_counter()
    classes = list(classes)
    backbone = load_pretrained_backbone()
    finetune = config.mode == "finetune"
    # Head: reading the images takes most of the time (0-70 %), the head the
    # rest. Fine-tuning: reading is quick (0-10 %), the epochs take long.
    reading = 0.1 if finetune else 0.7
    features, train_images = _read_parts(
        samples,
        classes,
        split,
        backbone=backbone,
        finetune=finetune,
        cached=cached or {},
        share=reading,
        progress=progress,
    )
    fit = {
        "n_classes": len(classes),
        "config": config,
        "seed": seed,
        "progress": _scaled(progress, "training", reading, 0.95),
        "checkpoint": checkpoint,
        "after_epoch": after_epoch,
    }
    backbone_state = None
    if finetune:
        maps = {}
        for name in ("val", "test"):
            maps[name] = as_maps(features[name].features, backbone)
            features[name].features = features[name].features[:, :0]  # free it
        tail, history = finetune_tail(
            train_images,
            features["train"].labels,
            maps["val"],
            features["val"].labels,
            backbone=backbone,
            **fit,
        )
        logits = {name: tail_logits(tail, m).numpy() for name, m in maps.items()}
        weight, bias = tail[-1].weight, tail[-1].bias
        backbone_state = tail_backbone_state(tail)
    else:
        weight, bias, history = train_linear_head(
            features["train"].features,
            features["train"].labels,
            features["val"].features,
            features["val"].labels,
            **fit,
        )
        logits = {
            name: (torch.as_tensor(fs.features) @ weight.T + bias).numpy()
            for name, fs in features.items()
        }
    temperature, metrics = summarise(
        classes=classes,
        val_logits=logits["val"],
        y_val=features["val"].labels,
        test_logits=logits["test"],
        y_test=features["test"].labels,
        target_precision=config.target_precision,
    )
    failures = [f for fs in features.values() for f in fs.failures]
    metrics["skipped"] = {
        "count": len(failures),
        "examples": [{"source": s, "reason": r} for s, r in failures[:50]],
    }
    metrics["train_count"] = len(features["train"].labels)
    artifact = linear_artifact(
        classes=classes,
        weight=weight,
        bias=bias,
        temperature=temperature,
        backbone_state=backbone_state,
    )
    progress(1.0, "done")
    return TrainResult(artifact, metrics, history, time.perf_counter() - started)


def _scaled(progress: Progress, name: str, lo: float, hi: float) -> Progress:
    return lambda f, m: progress(lo + (hi - lo) * f, f"{name}: {m}")


def _read_parts(
    samples, classes, split, *, backbone, finetune, cached, share, progress
) -> tuple[dict[str, FeatureSet], list[bytes]]:
    """Read each part of the split: (features per part, fine-tuning's JPEGs).

    In ``finetune`` mode the training part is kept as images (its features are
    empty) and the others as the frozen stages' output. Raise ValueError when a
    class has no readable training image.
    """
    parts = {
        name: [samples[i] for i in split.get(name, [])]
        for name in ("train", "val", "test")
    }
    total = max(sum(len(p) for p in parts.values()), 1)
    features, at = {}, 0.0
    train_images: list[bytes] = []
    for name, part in parts.items():
        part_share = share * len(part) / total
        part_progress = _scaled(progress, name, at, at + part_share)
        if finetune and name == "train":
            train_images, labels, failures = read_training_images(
                part, classes, progress=part_progress
            )
            features[name] = FeatureSet(
                np.zeros((len(labels), 0), np.float32), labels, [], failures
            )
        else:
            local = {
                j: cached[i]
                for j, i in enumerate(split.get(name, []))
                if i in cached and not finetune
            }
            features[name] = extract_features(
                part,
                classes,
                backbone=backbone,
                cached=local,
                stop_at=FINETUNE_FROM if finetune else None,
                progress=part_progress,
            )
        at += part_share
    if len(features["train"].labels) == 0:
        raise ValueError("no readable training image")
    missing = set(range(len(classes))) - set(features["train"].labels.tolist())
    if missing:
        raise ValueError(
            "no readable training image for "
            + ", ".join(sorted(classes[i] for i in missing))
        )
    return features, train_images
