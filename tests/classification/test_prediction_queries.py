"""A prediction costs the database a few queries, however large the catalog."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import ProductImage
from classification.services.predictions import image_classify
from classification.services.versions import model_version_ensure_default
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import TOP5, prediction
from tests.images import photo_jpeg

pytestmark = pytest.mark.django_db
# The active version; claiming the image (lock, check, status, the outbox);
# storing in one transaction (lock, the outbox, check, categories, the earlier
# current prediction, insert, status); the product's photos deciding together
# (products, predictions, statuses, read back); the near-duplicate indexes
# brought up to date and their candidates checked (hashes 2, embeddings 3); the
# merchant's webhooks; and the transactions' savepoints. Measured: 31 for the
# first photo, 28 later, whatever the catalog's size.
BUDGET = 31


def queued_photo(merchant, name: str) -> ProductImage:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.services import image_upload

    image, _ = image_upload(
        product=ProductFactory(merchant=merchant),
        upload=SimpleUploadedFile("p.jpg", photo_jpeg(name), "image/jpeg"),
        user=None,
    )
    return image


def classify_counting(image: ProductImage) -> int:
    with CaptureQueriesContext(connection) as queries:
        outcome = image_classify(image_id=image.pk)
    assert outcome.created
    return len(queries)


def test_a_prediction_takes_the_same_few_queries_at_any_catalog_size(
    merchant, media_storage
):
    model_version_ensure_default()
    first = classify_counting(queued_photo(merchant, "coffee"))
    for _ in range(60):
        prediction(top=TOP5, merchant=merchant)
    classify_counting(queued_photo(merchant, "chelsea"))  # index brought up to date
    later = classify_counting(queued_photo(merchant, "astronaut"))
    assert first <= BUDGET and later <= BUDGET, (first, later)
