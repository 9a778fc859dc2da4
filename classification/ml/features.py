"""Features of the frozen pretrained backbone, computed once per image.

The head trains on them; fine-tuning caches the frozen stages' output of the
validation and test images. Features stored before (the catalog's embeddings of
the untouched backbone) are reused instead of reading the image again.
"""

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from classification.ml.backbone import (
    DEFAULT_BATCH_SIZE,
    EMBEDDING_DIM,
    EfficientNetLite0,
    load_pretrained_backbone,
)
from classification.ml.data import Sample, UnreadableImage
from classification.ml.loop import Progress, no_progress
from classification.ml.presets import DEFAULT_PRESET, build_eval_transform


@dataclass
class FeatureSet:
    """Backbone features of the samples that could be read, with their labels."""

    features: np.ndarray  # float32 (N, 1280)
    labels: np.ndarray  # int64 (N,)
    kept: list[int]  # indices into the samples given
    failures: list[tuple[str, str]] = field(default_factory=list)


def _load_batch(
    samples: Sequence[Sample], transform: Callable[[Image.Image], Any]
) -> list[tuple[int, Any, str]]:
    out = []
    for i, sample in enumerate(samples):
        try:
            out.append((i, transform(sample.open()), ""))
        except UnreadableImage as error:
            out.append((i, None, str(error)))
    return out


def read_batches(samples, transform, batch_size):
    """Yield (start, decoded batch), decoding the next batch while the caller works.

    An image that cannot be read comes as ``(i, None, reason)``.
    """
    # Pillow releases the GIL while decoding and resizing, so one thread overlaps
    # JPEG work with the backbone's convolutions.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for start in range(0, len(samples), batch_size):
            future = pool.submit(
                _load_batch, samples[start : start + batch_size], transform
            )
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (start, future)
        if pending is not None:
            yield pending[0], pending[1].result()


@torch.inference_mode()
def extract_features(
    samples: Sequence[Sample],
    classes: Sequence[str],
    *,
    backbone: EfficientNetLite0 | None = None,
    preprocessing: dict | None = None,
    cached: dict[int, np.ndarray] | None = None,
    stop_at: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress = no_progress,
) -> FeatureSet:
    """Return the pooled backbone features of ``samples``.

    ``cached`` maps a sample's index to features computed before by the same
    backbone (the catalog's stored embeddings): those images are not read again.
    Images that cannot be decoded are skipped and listed in ``failures``.
    ``stop_at`` returns the output of ``features[:stop_at]`` instead (fine-tuning
    caches it), flattened per image.
    """
    index = {name: i for i, name in enumerate(classes)}
    cached = cached or {}
    model = backbone or load_pretrained_backbone()
    model = model.eval().to(memory_format=torch.channels_last)
    transform = build_eval_transform(preprocessing or DEFAULT_PRESET)
    todo = [i for i in range(len(samples)) if i not in cached]
    computed: dict[int, np.ndarray] = {}
    failures: list[tuple[str, str]] = []
    done = 0
    for start, batch in read_batches([samples[i] for i in todo], transform, batch_size):
        good: list[tuple[int, Tensor]] = [(i, t) for i, t, _ in batch if t is not None]
        for i, _, reason in batch:
            if reason:
                failures.append((samples[todo[start + i]].source, reason))
        if good:
            x = torch.stack([t for _, t in good]).contiguous(
                memory_format=torch.channels_last
            )
            if stop_at is None:
                out = model.forward_features(x)
            else:
                out = model.features[:stop_at](x).flatten(1)
            for (i, _), row in zip(good, out.float().numpy(), strict=True):
                computed[todo[start + i]] = row
        done += len(batch)
        progress(done / max(len(todo), 1), f"features {done}/{len(todo)}")
    features = {**cached, **computed}
    kept = sorted(features)
    width = (
        EMBEDDING_DIM if stop_at is None else (len(features[kept[0]]) if kept else 0)
    )
    matrix = (
        np.stack([features[i] for i in kept]).astype(np.float32)
        if kept
        else np.zeros((0, width), dtype=np.float32)
    )
    labels = np.array([index[samples[i].label] for i in kept], dtype=np.int64)
    return FeatureSet(matrix, labels, kept, failures)
