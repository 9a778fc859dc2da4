"""Tiny generated data sets for training tests: coloured shapes on plain grounds.

Each class is a shape and a colour, drawn at a random place and size with a little
colour noise, so a model must learn something, and the pretrained backbone learns
it from a handful of images.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SHAPES = {
    "red-circles": ("ellipse", (220, 40, 40)),
    "blue-squares": ("rectangle", (40, 60, 220)),
    "green-triangles": ("triangle", (40, 180, 60)),
}


def shape_image(kind: str, seed: int, size: int = 64) -> Image.Image:
    shape, colour = SHAPES[kind]
    rng = np.random.default_rng(seed)
    background = tuple(int(v) for v in rng.integers(225, 256, 3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    side = int(rng.integers(size // 3, size - 8))
    x, y = (int(v) for v in rng.integers(2, size - side - 2, 2))
    fill = tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)
    if shape == "ellipse":
        draw.ellipse((x, y, x + side, y + side), fill=fill)
    elif shape == "rectangle":
        draw.rectangle((x, y, x + side, y + side), fill=fill)
    else:
        draw.polygon(
            [(x + side // 2, y), (x, y + side), (x + side, y + side)], fill=fill
        )
    return image


def shapes_folder(
    root: Path,
    *,
    classes=tuple(SHAPES),
    per_class: int = 8,
    seed: int = 0,
    fmt: str = "PNG",
) -> Path:
    """Write an ImageFolder of shapes under ``root``; return ``root``."""
    for c, kind in enumerate(classes):
        folder = root / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            ext = "png" if fmt == "PNG" else "jpg"
            shape_image(kind, seed * 10_000 + c * 1000 + i).save(
                folder / f"{i:03d}.{ext}", fmt
            )
    return root
