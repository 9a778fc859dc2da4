"""Decode and check uploaded image bytes with Pillow.

Everything that reads an uploaded photo goes through :func:`decode_image`, so the
upload check, the thumbnail and the classifier see the same pixels: EXIF
orientation applied, any mode (CMYK, palette, alpha, 16-bit) turned into 8-bit RGB.
"""

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

register_heif_opener()

# Pillow format name -> file extension for the stored key.
ALLOWED_FORMATS = {
    "JPEG": "jpg",
    "PNG": "png",
    "WEBP": "webp",
    "GIF": "gif",
    "HEIF": "heic",
}
_OPEN_FORMATS = list(ALLOWED_FORMATS)


class ImageRejected(ValueError):
    """The bytes are not an image we accept; ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodedImage:
    image: Image.Image  # 8-bit RGB, upright
    format: str  # Pillow's name, a key of ALLOWED_FORMATS
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ALLOWED_FORMATS[self.format]


def decode_image(data: bytes, *, max_pixels: int) -> DecodedImage:
    """Decode ``data`` fully into an upright RGB image, or raise ImageRejected."""
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
        raise ImageRejected(
            "corrupt_image",
            "The image could not be decoded: the file looks damaged or incomplete.",
        ) from error
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise _too_many_pixels(image.size, max_pixels)
        image_format = image.format
        try:
            image.seek(0)  # the first frame of an animation
            image.load()
            rgb = to_rgb(ImageOps.exif_transpose(image))
        except (
            OSError,
            SyntaxError,
            ValueError,
            Image.DecompressionBombError,
        ) as error:
            raise ImageRejected(
                "corrupt_image",
                "The image could not be decoded: the file looks damaged or incomplete.",
            ) from error
    return DecodedImage(
        image=rgb, format=image_format, width=rgb.width, height=rgb.height
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
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") else max(float(array.max()), 1.0)
        array = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        image = Image.fromarray(array, mode="L")
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or image.has_transparency_data:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def make_thumbnail(image: Image.Image, *, size: int) -> bytes:
    """Encode a WebP thumbnail that fits in a ``size`` square."""
    thumb = image.copy()
    thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="WEBP", quality=82, method=4)
    return out.getvalue()
