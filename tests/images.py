"""Image bytes for tests: made here, or shipped by scikit-image."""

import io

import numpy as np
from PIL import Image


def encode(image: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def solid_jpeg(color=(200, 40, 40), size=(64, 48)) -> bytes:
    return encode(Image.new("RGB", size, color), "JPEG", quality=90)


def mpo(colors=((200, 40, 40), (40, 40, 200)), size=(64, 48)) -> bytes:
    """A multi-picture JPEG (MPO), as many phones and cameras write them."""
    first, *others = (Image.new("RGB", size, color) for color in colors)
    return encode(first, "MPO", save_all=True, append_images=others)


def noise_image(seed: int, size=(96, 96)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


def noise_png(seed: int, size=(96, 96)) -> bytes:
    return encode(noise_image(seed, size), "PNG")


def photo(name: str) -> Image.Image:
    """A real photo from scikit-image's bundled data (``coffee``, ``chelsea``...)."""
    from skimage import data

    return Image.fromarray(getattr(data, name)()).convert("RGB")


def photo_jpeg(name: str) -> bytes:
    return encode(photo(name), "JPEG", quality=92)
