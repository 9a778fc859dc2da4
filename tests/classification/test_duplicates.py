import numpy as np
import pytest
from django.urls import reverse

from catalog.models import ProductImage
from classification.models import NearDuplicate, Prediction
from classification.services.duplicates import image_near_duplicates_find
from classification.services.intake import image_upload
from tests.accounts.factories import MerchantFactory
from tests.catalog.factories import ProductFactory, upload
from tests.classification.queue_data import TOP5, image, prediction
from tests.images import encode, noise_png, photo, photo_jpeg

pytestmark = pytest.mark.django_db

BASE = 0x9F3A_5C21_7E80_B4D6


def hashed(value: int, **fields) -> ProductImage:
    return image(phash=f"{value:016x}", **fields)


def flip(value: int, bits: int) -> int:
    """``value`` with its lowest ``bits`` bits flipped: that Hamming distance."""
    return value ^ ((1 << bits) - 1)


def pairs() -> set[tuple[int, int, str]]:
    return set(
        NearDuplicate.objects.values_list("image_id", "duplicate_of_id", "method")
    )


# --- perceptual hash -----------------------------------------------------------


def test_upload_stores_a_perceptual_hash(merchant, django_capture_on_commit_callbacks):
    product = ProductFactory(merchant=merchant)
    stored, _ = image_upload(
        product=product, upload=upload(noise_png(7), "n.png"), user=None
    )
    assert len(stored.phash) == 16
    int(stored.phash, 16)  # hexadecimal
    stored.refresh_from_db()
    assert len(stored.phash) == 16


def test_the_same_picture_resized_and_reencoded_has_a_close_hash(merchant, settings):
    original = photo("chelsea")
    smaller = original.resize((original.width * 3 // 5, original.height * 3 // 5))
    hashes = []
    for data in (
        encode(original, "JPEG", quality=92),
        encode(smaller, "JPEG", quality=60),
        encode(original, "PNG"),
        photo_jpeg("coffee"),
    ):
        product = ProductFactory(merchant=merchant)
        stored, _ = image_upload(product=product, upload=upload(data), user=None)
        hashes.append(int(stored.phash, 16))
    distance = [(hashes[0] ^ h).bit_count() for h in hashes]
    assert distance[1] <= settings.VITRINE_NEAR_DUPLICATE_HAMMING
    assert distance[2] <= settings.VITRINE_NEAR_DUPLICATE_HAMMING
    assert distance[3] > 20


@pytest.mark.parametrize(("bits", "found"), [(0, True), (2, True), (3, False)])
def test_a_hash_within_the_hamming_threshold_is_a_near_duplicate(bits, found):
    """The default threshold: 2 bits of 64."""
    older = hashed(BASE)
    newer = hashed(flip(BASE, bits), merchant=older.merchant)
    image_near_duplicates_find(image=newer, embedding=None)
    assert pairs() == ({(newer.pk, older.pk, "phash")} if found else set())
    if found:
        assert NearDuplicate.objects.get().score == bits


def test_the_hamming_threshold_is_a_setting(settings):
    settings.VITRINE_NEAR_DUPLICATE_HAMMING = 6
    older = hashed(BASE)
    newer = hashed(flip(BASE, 6), merchant=older.merchant)
    farther = hashed(flip(BASE, 7), product=newer.product)
    image_near_duplicates_find(image=newer, embedding=None)
    image_near_duplicates_find(image=farther, embedding=None)
    assert pairs() == {(newer.pk, older.pk, "phash")}


def test_photos_of_the_same_product_or_of_another_merchant_are_not_duplicates():
    older = hashed(BASE)
    hashed(BASE, merchant=MerchantFactory())
    same_product = hashed(BASE, product=older.product)
    assert image_near_duplicates_find(image=same_product, embedding=None) == []
    assert not NearDuplicate.objects.exists()


def test_the_newer_photo_points_at_the_older_whichever_is_checked_first():
    older = hashed(BASE)
    newer = hashed(flip(BASE, 2), merchant=older.merchant)
    image_near_duplicates_find(image=older, embedding=None)
    image_near_duplicates_find(image=newer, embedding=None)
    assert pairs() == {(newer.pk, older.pk, "phash")}


def test_images_without_a_hash_are_skipped():
    older = hashed(BASE)
    newer = image(merchant=older.merchant)
    assert newer.phash == ""
    assert image_near_duplicates_find(image=newer, embedding=None) == []


# --- embeddings ------------------------------------------------------------------


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(1280).astype(np.float32)
    return vector / np.linalg.norm(vector)


def blend(a: np.ndarray, b: np.ndarray, cosine: float) -> np.ndarray:
    """A vector at exactly ``cosine`` from ``a`` (in the plane of a and b)."""
    orthogonal = b - (b @ a) * a
    orthogonal /= np.linalg.norm(orthogonal)
    return (cosine * a + np.sqrt(1 - cosine**2) * orthogonal).astype(np.float32)


@pytest.mark.parametrize(
    ("cosine", "found"), [(0.99, True), (0.95, True), (0.9, False)]
)
def test_a_very_similar_embedding_is_a_near_duplicate(cosine, found):
    base = unit(1)
    older = prediction(top=TOP5, embedding=(base * 3).tobytes())  # scale is irrelevant
    newer_image = hashed(flip(BASE, 20), merchant=older.image.merchant)
    close = blend(base, unit(2), cosine + 1e-4)
    image_near_duplicates_find(image=newer_image, embedding=close)
    expected = {(newer_image.pk, older.image_id, "embedding")} if found else set()
    assert pairs() == expected
    if found:
        assert NearDuplicate.objects.get().score == pytest.approx(cosine, abs=1e-3)


def test_a_same_picture_match_wins_over_an_embedding_match():
    base = unit(3)
    older = prediction(top=TOP5, embedding=base.tobytes())
    older.image.phash = f"{BASE:016x}"
    older.image.save()
    newer = hashed(flip(BASE, 1), merchant=older.image.merchant)
    image_near_duplicates_find(image=newer, embedding=base)
    assert pairs() == {(newer.pk, older.image_id, "phash")}


def test_every_earlier_classified_photo_of_the_merchant_is_compared():
    base = unit(4)
    merchant = MerchantFactory()
    oldest = prediction(top=TOP5, merchant=merchant, embedding=base.tobytes())
    for seed in range(5, 30):
        prediction(top=TOP5, merchant=merchant, embedding=unit(seed).tobytes())
    newer = hashed(1, merchant=merchant)
    image_near_duplicates_find(image=newer, embedding=base)
    assert pairs() == {(newer.pk, oldest.image_id, "embedding")}


# --- through classification, to the merchant and the reviewer -----------------------


def test_classifying_a_copy_records_it_and_tells_the_merchant_and_the_reviewer(
    merchant,
    merchant_client,
    staff_user,
    client,
    django_capture_on_commit_callbacks,
):
    """The real classifier runs: the check happens when its embedding is stored."""
    first = ProductFactory(merchant=merchant, name="Tabby poster", sku="TP-1")
    second = ProductFactory(merchant=merchant, name="Cat print", sku="CP-2")
    original = photo("chelsea")
    smaller = original.resize((original.width // 2, original.height // 2))
    with django_capture_on_commit_callbacks(execute=True):
        kept, _ = image_upload(
            product=first,
            upload=upload(encode(original, "JPEG", quality=92)),
            user=None,
        )
    with django_capture_on_commit_callbacks(execute=True):
        copy, _ = image_upload(
            product=second,
            upload=upload(encode(smaller, "JPEG", quality=70)),
            user=None,
        )
    assert Prediction.objects.filter(image__in=[kept, copy]).count() == 2
    duplicate = NearDuplicate.objects.get()
    assert (duplicate.image, duplicate.duplicate_of) == (copy, kept)
    assert duplicate.method == "phash"

    page = merchant_client.get(reverse("catalog:product-detail", args=[second.pk]))
    html = page.content.decode()
    assert "This photo is the same picture as" in html
    assert reverse("catalog:product-detail", args=[first.pk]) in html
    assert "Tabby poster" in html and "TP-1" in html
    untouched = merchant_client.get(reverse("catalog:product-detail", args=[first.pk]))
    assert b"same picture as" not in untouched.content

    # The reviewer sees the link wherever the copy waits in the queue.
    Prediction.objects.filter(image=copy).update(status="needs_review")
    client.force_login(staff_user)
    work = client.get("/admin/classification/reviewitem/work/")
    assert work.context["item"].image == copy
    assert reverse("catalog:image-file", args=[kept.pk]) in work.content.decode()


def test_product_page_queries_stay_fixed_with_notices(
    merchant, merchant_client, django_assert_max_num_queries
):
    product = ProductFactory(merchant=merchant)
    url = reverse("catalog:product-detail", args=[product.pk])

    def add_copy():
        NearDuplicate.objects.create(
            image=image(product=product),
            duplicate_of=image(merchant=merchant),
            method="phash",
            score=1,
        )

    add_copy()
    merchant_client.get(url)
    with django_assert_max_num_queries(12) as before:
        merchant_client.get(url)
    for _ in range(4):
        add_copy()
    with django_assert_max_num_queries(len(before)):
        response = merchant_client.get(url)
    assert response.content.decode().count("notice-duplicate") == 5
