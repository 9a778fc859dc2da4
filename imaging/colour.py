"""Any Pillow mode to 8-bit RGB: CMYK, palette, alpha (on white), 16 and 32 bits.

Conversions run in Pillow or on integer bands of rows, never on whole-image float
arrays.
"""

import numpy as np
from PIL import Image

# Pixels converted at a time from 16-bit and 32-bit modes: the arrays of one band
# take a few MB (8 MB of float64 for 32-bit input), whatever the image's size.
_BAND_PIXELS = 1 << 20


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
