import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from imaging import decode as images
from imaging.decode import decode_image
from imaging.errors import ImageRejected
from tests.images import encode, mpo, noise_image, solid_jpeg

LIMIT = 10_000_000


def test_jpeg_decodes_to_rgb_with_its_size():
    decoded = decode_image(solid_jpeg(size=(64, 48)), max_pixels=LIMIT)
    assert (decoded.width, decoded.height, decoded.format) == (64, 48, "JPEG")
    assert decoded.image.mode == "RGB"
    assert decoded.extension == "jpg"


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is text", b"%PDF-1.7\n" + b"0" * 200, b"\x89PNG\r\n\x1a\n"],
    ids=["empty", "text", "pdf", "png-signature-only"],
)
def test_non_images_are_rejected_with_a_clear_message(data):
    with pytest.raises(ImageRejected) as error:
        decode_image(data, max_pixels=LIMIT)
    assert error.value.code in {"not_an_image", "corrupt_image"}
    assert "image" in error.value.message.lower()


def test_truncated_jpeg_is_rejected_as_corrupt():
    data = encode(Image.new("RGB", (400, 300), (10, 200, 30)), "JPEG")
    with pytest.raises(ImageRejected) as error:
        decode_image(data[: len(data) // 2], max_pixels=LIMIT)
    assert error.value.code == "corrupt_image"


def test_formats_we_do_not_accept_are_rejected():
    bmp = encode(Image.new("RGB", (8, 8)), "BMP")
    tiff = encode(Image.new("RGB", (8, 8)), "TIFF")
    for data in (bmp, tiff):
        with pytest.raises(ImageRejected) as error:
            decode_image(data, max_pixels=LIMIT)
        assert error.value.code == "not_an_image"


def test_decompression_bomb_is_refused_before_decoding():
    # A 20000x20000 PNG of zeros compresses to well under a megabyte.
    bomb = encode(Image.new("L", (20000, 20000)), "PNG", optimize=False)
    assert len(bomb) < 2_000_000
    with pytest.raises(ImageRejected) as error:
        decode_image(bomb, max_pixels=LIMIT)
    assert error.value.code == "too_many_pixels"
    assert "10,000,000 pixels" in error.value.message


def test_image_just_over_the_pixel_limit_names_its_size():
    data = encode(Image.new("L", (4000, 2600)), "PNG")
    with pytest.raises(ImageRejected) as error:
        decode_image(data, max_pixels=LIMIT)
    assert "4000×2600" in error.value.message


def test_exif_orientation_is_applied():
    image = Image.new("RGB", (60, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    decoded = decode_image(encode(image, "JPEG", exif=exif), max_pixels=LIMIT)
    assert (decoded.width, decoded.height) == (20, 60)


def test_cmyk_becomes_rgb():
    data = encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")
    decoded = decode_image(data, max_pixels=LIMIT)
    r, g, b = decoded.image.getpixel((8, 8))
    assert decoded.image.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_transparent_png_is_flattened_onto_white():
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image.putpixel((0, 0), (0, 0, 255, 255))
    decoded = decode_image(encode(image, "PNG"), max_pixels=LIMIT)
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.image.getpixel((0, 0)) == (0, 0, 255)


def test_palette_image_with_transparency_is_flattened():
    image = Image.new("P", (10, 10), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 1), 1)
    data = encode(image, "PNG", transparency=0)
    decoded = decode_image(data, max_pixels=LIMIT)
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.image.getpixel((1, 1)) == (255, 0, 0)


def test_16_bit_grayscale_is_scaled_to_8_bit():
    array = np.full((8, 8), 65535, dtype=np.uint16)
    array[0, 0] = 0
    image = Image.fromarray(array)
    assert image.mode == "I;16"
    decoded = decode_image(encode(image, "PNG"), max_pixels=LIMIT)
    assert decoded.image.getpixel((4, 4)) == (255, 255, 255)
    assert decoded.image.getpixel((0, 0)) == (0, 0, 0)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (12, 12), c) for c in [(255, 0, 0), (0, 0, 255)]]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    decoded = decode_image(out.getvalue(), max_pixels=LIMIT)
    r, _g, b = decoded.image.getpixel((6, 6))
    assert r > 200 and b < 50


def test_webp_is_accepted():
    decoded = decode_image(
        encode(Image.new("RGB", (30, 20), "green"), "WEBP"), max_pixels=LIMIT
    )
    assert decoded.format == "WEBP" and decoded.extension == "webp"


def test_heic_is_accepted():
    from pillow_heif import from_pillow

    heif = from_pillow(Image.new("RGB", (32, 32), (0, 128, 255)))
    out = io.BytesIO()
    heif.save(out, quality=80)
    decoded = decode_image(out.getvalue(), max_pixels=LIMIT)
    assert decoded.format == "HEIF" and decoded.extension == "heic"


def test_a_multi_picture_jpeg_decodes_as_a_jpeg_with_its_first_picture():
    data = mpo(colors=[(250, 0, 0), (0, 0, 250)], size=(40, 30))
    assert Image.open(io.BytesIO(data)).format == "MPO"
    decoded = decode_image(data, max_pixels=LIMIT)
    assert (decoded.format, decoded.extension) == ("JPEG", "jpg")
    assert (decoded.width, decoded.height) == (40, 30)
    r, _g, b = decoded.image.getpixel((20, 15))
    assert r > 200 and b < 50


def test_a_format_pillow_reports_that_we_do_not_list_is_unsupported(monkeypatch):
    # Pillow's JPEG reader answers MPO for multi-picture files; were we not to
    # list it, the file would be refused by name, not fail on a lookup.
    monkeypatch.delitem(images.READ_AS, "MPO")
    with pytest.raises(ImageRejected) as error:
        decode_image(mpo(), max_pixels=LIMIT)
    assert error.value.code == "unsupported_media_type"
    assert "MPO" in error.value.message


def test_every_16_bit_value_scales_to_8_bits_over_the_full_range():
    values = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    decoded = decode_image(encode(Image.fromarray(values), "PNG"), max_pixels=LIMIT)
    red = np.asarray(decoded.image)[:, :, 0]
    assert np.array_equal(red, (values // 257).astype(np.uint8))


def test_the_decoded_size_is_bounded_by_bytes_per_pixel():
    # 100x100 RGBA is 40,000 bytes decoded, RGB 30,000 and 16-bit gray 20,000.
    rgba = encode(Image.new("RGBA", (100, 100), (1, 2, 3, 255)), "PNG")
    with pytest.raises(ImageRejected) as error:
        decode_image(rgba, max_pixels=LIMIT, max_decoded_bytes=39_999)
    assert error.value.code == "too_many_pixels"
    assert "100×100 pixels of 4 bytes each" in error.value.message
    rgb = encode(Image.new("RGB", (100, 100)), "PNG")
    gray16 = encode(Image.fromarray(np.zeros((100, 100), dtype=np.uint16)), "PNG")
    for data in (rgb, gray16):
        decoded = decode_image(data, max_pixels=LIMIT, max_decoded_bytes=39_999)
        assert decoded.image.size == (100, 100)


def test_16_bit_conversion_needs_no_whole_image_float_arrays():
    """A 16-bit photo once cost eight bytes a pixel in float64 copies, several at
    once; numpy's allocations (which tracemalloc sees) now stay within a band of
    rows, less than even the 8-bit result."""
    size = 3000
    array = np.tile(np.arange(size, dtype=np.uint16) * 20, (size, 1))
    data = encode(Image.fromarray(array), "PNG", compress_level=1)
    tracemalloc.start()
    try:
        decoded = decode_image(data, max_pixels=LIMIT)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decoded.image.getpixel((size - 1, size - 1))[0] == (size - 1) * 20 // 257
    assert peak < size * size, f"{peak / 1e6:.1f} MB for a 9 MB picture"


def test_grayscale_with_alpha_is_flattened_onto_white():
    image = Image.new("LA", (10, 10), (0, 0))
    image.putpixel((0, 0), (40, 255))
    image.putpixel((1, 0), (0, 128))
    decoded = decode_image(encode(image, "PNG"), max_pixels=LIMIT)
    assert decoded.image.getpixel((5, 5)) == (255, 255, 255)
    assert decoded.image.getpixel((0, 0)) == (40, 40, 40)
    # Half-transparent black on white: the same blend as through RGBA.
    rgba = Image.new("RGB", (1, 1), (255, 255, 255))
    rgba.paste(
        Image.new("RGBA", (1, 1), (0, 0, 0, 128)), mask=Image.new("L", (1, 1), 128)
    )
    assert decoded.image.getpixel((1, 0)) == rgba.getpixel((0, 0))


def big_photo_jpeg(size=(4000, 3000), **params) -> bytes:
    image = Image.fromarray(
        np.asarray(noise_image(1, (40, 30))).repeat(100, 0).repeat(100, 1)
    )
    assert image.size == size
    return encode(image, "JPEG", quality=90, **params)


def test_a_large_jpeg_decodes_at_reduced_size_keeping_the_shorter_side():
    decoded = decode_image(big_photo_jpeg(), max_pixels=LIMIT * 2, min_side=512)
    # 1/4 of 4000x3000 keeps 750 >= 512 pixels on the shorter side; 1/8 would not.
    assert (decoded.width, decoded.height) == (1000, 750)
    full = decode_image(big_photo_jpeg(), max_pixels=LIMIT * 2)
    assert (full.width, full.height) == (4000, 3000)


def test_reduced_decoding_keeps_the_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = big_photo_jpeg(exif=exif)
    decoded = decode_image(data, max_pixels=LIMIT * 2, min_side=512)
    assert (decoded.width, decoded.height) == (750, 1000)


def test_a_jpeg_under_twice_the_side_and_other_formats_decode_whole():
    small = encode(Image.new("RGB", (800, 800), (9, 90, 200)), "JPEG")
    assert decode_image(small, max_pixels=LIMIT, min_side=512).width == 800
    png = encode(Image.new("RGB", (2000, 1200), (9, 90, 200)), "PNG")
    assert decode_image(png, max_pixels=LIMIT, min_side=256).width == 2000


def test_the_pixel_limit_counts_the_file_not_the_reduced_picture():
    with pytest.raises(ImageRejected) as error:
        decode_image(big_photo_jpeg(), max_pixels=LIMIT, min_side=256)
    assert error.value.code == "too_many_pixels"
