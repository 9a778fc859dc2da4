import io

from PIL import Image

from imaging.resize import make_thumbnail, perceptual_hash
from tests.images import noise_image, photo


def _distance(first: str, second: str) -> int:
    return (int(first, 16) ^ int(second, 16)).bit_count()


def test_a_thumbnail_fits_its_square_and_keeps_the_aspect_ratio():
    thumb = Image.open(
        io.BytesIO(make_thumbnail(Image.new("RGB", (900, 300)), size=300))
    )
    assert (thumb.format, thumb.size) == ("WEBP", (300, 100))


def test_a_small_picture_is_not_enlarged_for_its_thumbnail():
    thumb = Image.open(io.BytesIO(make_thumbnail(Image.new("RGB", (40, 20)), size=300)))
    assert thumb.size == (40, 20)


def test_the_perceptual_hash_survives_resizing_but_tells_pictures_apart():
    cat = photo("chelsea")
    smaller = cat.resize((cat.width // 2, cat.height // 2))
    assert len(perceptual_hash(cat)) == 16
    assert _distance(perceptual_hash(cat), perceptual_hash(smaller)) <= 2
    assert _distance(perceptual_hash(cat), perceptual_hash(photo("coffee"))) > 20
    assert perceptual_hash(noise_image(1)) != perceptual_hash(noise_image(2))
