"""Eval preprocessing, described by a JSON-able spec saved with each model version.

A version's transform is rebuilt from its own spec, so retraining with other values
never changes how an older version sees its images.
"""

from typing import Any

import torch
from torchvision.transforms import v2

# The Lite0 weights come from TensorFlow's edge models, trained on inputs scaled
# as (pixel - 127) / 128 ("inception style", kinder to quantisation), not with the
# usual ImageNet mean and std. Eval took the central 224/(224 + 32) of the image
# and resized it bicubically to 224, which is resize-to-256 and crop-224 here.
DEFAULT_PRESET: dict[str, Any] = {
    "resize": 256,
    "crop": 224,
    "interpolation": "bicubic",
    "mean": [127 / 255] * 3,
    "std": [128 / 255] * 3,
}


def build_eval_transform(spec: dict[str, Any]) -> v2.Compose:
    """Return the transform from a PIL RGB image to a normalised float tensor."""
    return v2.Compose(
        [
            # Resize and crop the PIL image first: PIL's antialiased resize of a
            # large photo is faster than on a tensor, and later steps see 224².
            v2.Resize(
                spec["resize"],
                interpolation=v2.InterpolationMode(spec["interpolation"]),
                antialias=True,
            ),
            v2.CenterCrop(spec["crop"]),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean=spec["mean"], std=spec["std"]),
        ]
    )


def build_train_transform(spec: dict[str, Any]) -> v2.Compose:
    """Return the augmenting transform fine-tuning applies to a PIL RGB image.

    A random crop of half the image or more (slightly stretched), a mirror image
    half the time and mild lighting changes: product photos differ in framing
    and exposure, not in orientation. The output matches the eval transform's.
    """
    return v2.Compose(
        [
            v2.RandomResizedCrop(
                spec["crop"],
                scale=(0.5, 1.0),
                ratio=(0.8, 1.25),
                interpolation=v2.InterpolationMode(spec["interpolation"]),
                antialias=True,
            ),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean=spec["mean"], std=spec["std"]),
        ]
    )
