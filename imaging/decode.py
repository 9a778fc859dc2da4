"""Decode image bytes into an upright 8-bit RGB picture, within limits.

Memory is bounded before any pixel is decoded: by the pixel count and by the
bytes the decoded picture takes in the file's own mode (a 16-bit grayscale photo
takes 2 bytes a pixel, a transparent one 4).
"""

import io
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from imaging.colour import to_rgb
from imaging.errors import ImageRejected

register_heif_opener()

# Pillow format name -> file extension for the stored key.
ALLOWED_FORMATS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "HEIF": "heic",
}
# What Pillow may report for a file its readers for ALLOWED_FORMATS open, and the
# format we store it as. A multi-picture JPEG (MPO, from many phones and
# cameras) is a JPEG whose first picture every JPEG reader shows.
READ_AS = {name: name for name in ALLOWED_FORMATS} | {"MPO": "JPEG"}


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # 8-bit RGB, upright
    format: str  # Pillow's name, a key of ALLOWED_FORMATS for an upload
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS.get(self.format, self.format.lower())


def decode_image(
    data: bytes | BinaryIO,
    *,
    max_pixels: int,
    max_decoded_bytes: int | None = None,
    formats: Collection[str] | None = tuple(ALLOWED_FORMATS),
    min_side: int | None = None,
) -> DecodedImage:
    """Decode ``data`` fully into an upright RGB image, or raise ImageRejected.

    ``data`` is bytes or a binary file (left open). ``max_decoded_bytes`` bounds
    width x height x bytes per pixel of the picture as the file stores it,
    checked from the header before decoding. ``formats`` are the Pillow names
    accepted (uploads: ALLOWED_FORMATS); None reads every format Pillow reads, as
    training folders may hold BMP or TIFF files.

    With ``min_side``, a JPEG at least twice that size on its shorter side is
    decoded at 1/2, 1/4 or 1/8 of its size (JPEG's draft mode, scaled while
    decoding), never below ``min_side``: a 12-megapixel photo for a network that
    sees 256 pixels then decodes about ten times faster. The limits apply to the
    file's own size either way.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        image = Image.open(stream, formats=None if formats is None else list(formats))
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(None, max_pixels) from error
    except UnidentifiedImageError as error:
        raise ImageRejected(
            "not_an_image",
            "This file is not an image we can read. Upload a JPEG, PNG, WebP, GIF "
            "or HEIC photo.",
        ) from error
    except (OSError, SyntaxError, ValueError) as error:
        # A known format whose header is cut short or damaged.
        raise _corrupt() from error
    with image:
        reported = image.format or ""
        image_format = READ_AS.get(reported)
        if formats is None:
            image_format = image_format or reported
        elif image_format not in formats:
            raise ImageRejected(
                "unsupported_media_type",
                f"{image.format or 'This'} images are not accepted. Upload a JPEG, "
                "PNG, WebP, GIF or HEIC photo.",
            )
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(image.size, max_pixels)
        decoded_bytes = width * height * bytes_per_pixel(image.mode)
        if max_decoded_bytes is not None and decoded_bytes > max_decoded_bytes:
            raise ImageRejected(
                "too_many_pixels",
                f"The image is {width}×{height} pixels of "
                f"{bytes_per_pixel(image.mode)} bytes each: "
                f"{decoded_bytes / 1e6:,.0f} MB once decoded; the limit is "
                f"{max_decoded_bytes / 1e6:,.0f} MB.",
            )
        if min_side is not None and image_format == "JPEG":
            _draft(image, min_side)
        try:
            image.seek(0)  # the first frame of an animation
            image.load()
            # In place: without an orientation tag there is nothing to copy.
            ImageOps.exif_transpose(image, in_place=True)
            rgb = to_rgb(image)
        except (
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as error:
            raise _corrupt() from error
    return DecodedImage(
        image=rgb, format=image_format, width=rgb.width, height=rgb.height
    )


def _draft(image: Image.Image, min_side: int) -> None:
    """Ask the JPEG decoder for the smallest scale keeping ``min_side`` pixels."""
    width, height = image.size
    scale = min_side / min(width, height)
    if scale <= 0.5:
        # Pillow picks the largest reduction whose result is at least this big.
        image.draft(image.mode, (math.ceil(width * scale), math.ceil(height * scale)))


def bytes_per_pixel(mode: str) -> int:
    """Return the bytes one pixel of ``mode`` holds (RGB 3, RGBA 4, I;16 2)."""
    described = ImageMode.getmode(mode)
    return len(described.bands) * int(described.typestr[2:])


def _corrupt() -> ImageRejected:
    return ImageRejected(
        "corrupt_image",
        "The image could not be decoded: the file looks damaged or incomplete.",
    )


def _too_many_pixels(size: tuple[int, int] | None, limit: int) -> ImageRejected:
    described = f"{size[0]}×{size[1]} pixels" if size else "far too many pixels"
    return ImageRejected(
        "too_many_pixels",
        f"The image is {described}; the limit is {limit:,} pixels in all.",
    )
