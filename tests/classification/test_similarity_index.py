"""The near-duplicate indexes find exactly what a scan of every earlier photo of
the merchant finds, and follow the database as it changes."""

import numpy as np
import pytest

from catalog.models import ProductImage
from classification.models import Prediction
from classification.services.similarity_index import (
    embedding_matches,
    phash_matches,
)
from tests.accounts.factories import MerchantFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import TOP5, image, prediction

pytestmark = pytest.mark.django_db
CUTOFF = 0.95


def scan(query: ProductImage, vector: np.ndarray) -> dict[int, float]:
    """What a scan of all the merchant's other products' current embeddings finds."""
    found = {}
    for image_id, data in (
        Prediction.objects.filter(is_current=True, image__merchant_id=query.merchant_id)
        .exclude(image__product_id=query.product_id)
        .values_list("image_id", "embedding")
    ):
        other = np.frombuffer(bytes(data), dtype=np.float32)
        similarity = other @ vector / (np.linalg.norm(other) * np.linalg.norm(vector))
        if similarity >= CUTOFF:
            found[image_id] = round(float(similarity), 4)
    return found


@pytest.fixture
def catalog(settings):
    """A merchant's 400 classified photos in 40 groups of look-alikes, whose
    cosines to their group's centre straddle the cutoff."""
    settings.VITRINE_NEAR_DUPLICATE_COSINE = CUTOFF
    rng = np.random.default_rng(0)
    merchant = MerchantFactory()
    centres = rng.standard_normal((40, 1280)).astype(np.float32)
    vectors = []
    for i in range(400):
        noise = rng.uniform(0.1, 0.5) * rng.standard_normal(1280)
        vector = (centres[i % 40] + noise).astype(np.float32)
        vectors.append(vector)
        prediction(top=TOP5, merchant=merchant, embedding=vector.tobytes())
    return merchant, centres, rng


def test_the_index_finds_what_the_scan_finds(catalog):
    merchant, centres, rng = catalog
    found_any = 0
    for i in range(40):
        query = image(merchant=merchant)
        vector = (centres[i] + 0.1 * rng.standard_normal(1280)).astype(np.float32)
        expected = scan(query, vector)
        assert dict(embedding_matches(query, vector)) == expected
        found_any += bool(expected)
    # Look-alikes were found for most groups, and not every photo of a group.
    assert found_any > 20
    assert 0 < sum(len(scan(image(merchant=merchant), c)) for c in centres) < 400


def test_photos_classified_after_the_index_was_built_are_found(catalog):
    merchant, centres, _ = catalog
    query = image(merchant=merchant)
    embedding_matches(query, centres[0])  # builds this process's index
    added = prediction(top=TOP5, merchant=merchant, embedding=centres[0].tobytes())
    assert dict(embedding_matches(query, centres[0]))[added.image_id] == 1.0
    assert dict(embedding_matches(query, centres[0])) == scan(query, centres[0])


def test_deleted_reclassified_and_same_product_photos_are_left_out(catalog):
    merchant, centres, _ = catalog
    query = image(merchant=merchant)
    twins = [
        prediction(top=TOP5, merchant=merchant, embedding=centres[1].tobytes())
        for _ in range(3)
    ]
    assert {t.image_id for t in twins} <= set(
        dict(embedding_matches(query, centres[1]))
    )
    twins[0].image.delete()
    Prediction.objects.filter(pk=twins[1].pk).update(is_current=False)
    ProductImage.objects.filter(pk=twins[2].image_id).update(product=query.product)
    found = dict(embedding_matches(query, centres[1]))
    assert not {t.image_id for t in twins} & set(found)
    assert found == scan(query, centres[1])


def test_a_group_larger_than_the_first_candidates_is_found_whole(settings):
    settings.VITRINE_NEAR_DUPLICATE_COSINE = CUTOFF
    merchant = MerchantFactory()
    centre = np.random.default_rng(1).standard_normal(1280).astype(np.float32)
    copies = [
        prediction(top=TOP5, merchant=merchant, embedding=centre.tobytes())
        for _ in range(80)
    ]
    query = image(merchant=merchant)
    assert {i for i, _ in embedding_matches(query, centre)} == {
        c.image_id for c in copies
    }


def test_hash_matches_equal_a_scan_of_the_merchants_hashes(settings):
    settings.VITRINE_NEAR_DUPLICATE_HAMMING = 2
    rng = np.random.default_rng(2)
    merchant, elsewhere = MerchantFactory(), MerchantFactory()
    base = int(rng.integers(0, 2**63))
    rows = []
    for bits in range(300):
        value = (
            base ^ int(rng.integers(0, 2**63))
            if bits % 3
            else base ^ ((1 << (bits % 5)) - 1)
        )
        rows.append(image(merchant=merchant, phash=f"{value:016x}"))
    image(merchant=elsewhere, phash=f"{base:016x}")
    same_product = image(product=rows[0].product, phash=f"{base:016x}")
    query = image(product=ProductFactory(merchant=merchant), phash=f"{base:016x}")
    expected = {
        row.pk: bin(int(row.phash, 16) ^ base).count("1")
        for row in rows
        if bin(int(row.phash, 16) ^ base).count("1") <= 2
    } | {same_product.pk: 0}
    assert expected and dict(phash_matches(query)) == expected
    later = image(merchant=merchant, phash=f"{base ^ 1:016x}")
    assert dict(phash_matches(query)) == {**expected, later.pk: 1}
    assert same_product.pk not in dict(
        phash_matches(image(product=rows[0].product, phash=f"{base:016x}"))
    )
