"""Smaller pictures made from a decoded one: thumbnails and the perceptual hash."""

import io

from PIL import Image


def shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize ``image`` down to ``size`` with LANCZOS, into an image of its own.

    Reducing by a whole factor first (to within 3x of the size, where the result
    cannot be told from LANCZOS all the way) makes a 50-megapixel photo take a
    fraction of a second, and no full-size copy is made.
    """
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def make_thumbnail(image: Image.Image, *, size: int) -> bytes:
    """Encode a WebP thumbnail that fits in a ``size`` square (never enlarged)."""
    width, height = image.size
    scale = min(size / width, size / height, 1.0)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = image if target == image.size else shrink(image, target)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


def perceptual_hash(image: Image.Image) -> str:
    """Return the 64-bit perceptual hash of ``image`` as 16 hex digits.

    The same picture resized, re-encoded or lightly edited keeps a hash a few
    bits away; another picture differs in about half of them.
    """
    # Imported on first use: imagehash pulls in SciPy, which only uploads need.
    import imagehash

    return str(imagehash.phash(shrink(image, (32, 32))))
