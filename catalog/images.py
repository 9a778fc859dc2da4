"""Decode and check uploaded image bytes with Pillow.

Everything that reads an uploaded photo goes through :func:`decode_image`, so the
upload check, the thumbnail and the classifier see the same pixels: EXIF
orientation applied, any mode (CMYK, palette, alpha, 16-bit) turned into 8-bit RGB.

Memory is bounded before any pixel is decoded: by the pixel count and by the
bytes the decoded picture takes in the file's own mode (a 16-bit grayscale photo
takes 2 bytes a pixel, a transparent one 4). Conversions run in Pillow or on
integer bands of rows, never on whole-image float arrays.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from config.errors import VitrineError

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
_OPEN_FORMATS = list(ALLOWED_FORMATS)

# Pixels converted at a time from 16-bit and 32-bit modes: the arrays of one band
# take a few MB (8 MB of float64 for 32-bit input), whatever the image's size.
_BAND_PIXELS = 1 << 20


# Too big (in bytes or in pixels) is 413; not an image format we read is 415; an
# image file that is empty or damaged is a bad request (400).
REJECTION_STATUS = {
    "file_too_large": 413,
    "too_many_pixels": 413,
    "not_an_image": 415,
    "unsupported_media_type": 415,
    "corrupt_image": 400,
    "empty_file": 400,
}


class ImageRejected(VitrineError):
    """The bytes are not an image we accept; ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code, status=REJECTION_STATUS.get(code, 400))


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # 8-bit RGB, upright
    format: str  # Pillow's name, a key of ALLOWED_FORMATS
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def decode_image(
    data: bytes, *, max_pixels: int, max_decoded_bytes: int | None = None
) -> DecodedImage:
    """Decode ``data`` fully into an upright RGB image, or raise ImageRejected.

    ``max_decoded_bytes`` bounds width x height x bytes per pixel of the picture
    as the file stores it, checked from the header before decoding.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
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
        image_format = READ_AS.get(image.format or "")
        if image_format is None:
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


def to_rgb(image: Image.Image) -> Image.Image:
    """Return the image in 8-bit RGB (itself if it already is); transparency is
    flattened onto white.

    Product cut-outs often come as transparent PNGs; dropping the alpha channel
    would show the network whatever colour hides under it, often black.
    """
    mode = image.mode
    if mode == "RGB" and not image.has_transparency_data:
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _deep_to_rgb(image)
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode == "LA":
        # Flattened in one band, then widened: a fraction of an RGBA copy.
        gray = Image.new("L", image.size, 255)
        gray.paste(image, mask=image)
        return gray.convert("RGB")
    if mode in ("RGBA", "PA", "RGBa", "La") or image.has_transparency_data:
        rgba = image if mode == "RGBA" else image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        # An RGBA mask is its alpha band: no separate copy of the channel.
        background.paste(rgba, mask=rgba)
        return background
    return image.convert("RGB")


def _deep_to_rgb(image: Image.Image) -> Image.Image:
    """Scale a 16-bit (or 32-bit) single-band image to 8-bit RGB, a band of rows at
    a time: 16-bit values over their full range (v // 257), 32-bit ones over
    0..max. Bands go straight into the RGB result: no full-size 8-bit copy."""
    width, height = image.size
    sixteen = image.mode.startswith("I;16")
    top = 65535.0 if sixteen else max(float(image.getextrema()[1]), 1.0)
    out = Image.new("RGB", image.size)
    rows = max(1, _BAND_PIXELS // width)
    for start in range(0, height, rows):
        band = np.asarray(image.crop((0, start, width, min(start + rows, height))))
        if sixteen:
            # Exactly what clip(v / 65535 * 255) gives for every 16-bit value.
            scaled = (band // 257).astype(np.uint8)
        else:
            scaled = np.clip(band / top * 255.0, 0, 255).astype(np.uint8)
        out.paste(Image.fromarray(scaled, mode="L").convert("RGB"), (0, start))
    return out


def make_thumbnail(image: Image.Image, *, size: int) -> bytes:
    """Encode a WebP thumbnail that fits in a ``size`` square (never enlarged)."""
    width, height = image.size
    scale = min(size / width, size / height, 1.0)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = image if target == image.size else shrink(image, target)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()


def shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize ``image`` down to ``size`` with LANCZOS, into an image of its own.

    Reducing by a whole factor first (to within 3x of the size, where the result
    cannot be told from LANCZOS all the way) makes a 50-megapixel photo take a
    fraction of a second, and no full-size copy is made.
    """
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
