"""Every way in starts classification: photos uploaded on the pages or the API
are queued once stored, and a category the merchant changes sends the
product's predictions through the auto-accept rule again."""

import pytest
from django.urls import reverse

from catalog.models import ImageStatus, ProductImage
from catalog.services import image_upload as store_without_classifying
from classification.models import Prediction
from classification.services.intake import image_upload
from tests.catalog.factories import ProductFactory, upload
from tests.classification.queue_data import category, prediction
from tests.images import noise_png, solid_jpeg

pytestmark = pytest.mark.django_db

CONFIDENT = [("apparel", 0.9), ("footwear", 0.05)]


def confident_prediction(merchant):
    """A prediction the model was sure of, accepted without review."""
    return prediction(
        top=CONFIDENT, status=Prediction.Status.AUTO_ACCEPTED, merchant=merchant
    )


def statuses(item) -> tuple:
    """The prediction's status and its image's, as stored now."""
    item.refresh_from_db()
    item.image.refresh_from_db()
    return item.status, item.image.status


def product_patched(api, product_id: int, fields: dict) -> None:
    response = api.patch(f"/api/v1/products/{product_id}/", fields, format="json")
    assert response.status_code == 200, response.content


@pytest.fixture
def queued(monkeypatch):
    """The image ids handed to the classification queue (the CNN is not run)."""
    ids = []
    monkeypatch.setattr(
        "classification.tasks.classify_image.delay",
        lambda image_id: ids.append(image_id),
    )
    return ids


def test_a_photo_uploaded_on_the_page_is_queued_once_stored(
    merchant_client, merchant, queued, django_capture_on_commit_callbacks
):
    product = ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            reverse("catalog:image-upload", args=[product.pk]),
            {"file": upload(solid_jpeg(), "mug.jpg")},
            HTTP_ACCEPT="application/json",
        )
    assert response.status_code == 200
    assert queued == [response.json()["results"][0]["id"]]


def test_photos_sent_with_the_product_form_are_queued(
    merchant_client, merchant, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            reverse("catalog:product-create"),
            {
                "sku": "MUG-1",
                "name": "Mug",
                "images": [
                    upload(noise_png(1), "a.png"),
                    upload(noise_png(2), "b.png"),
                ],
            },
        )
    assert response.status_code == 302
    assert sorted(queued) == sorted(ProductImage.objects.values_list("pk", flat=True))
    assert len(queued) == 2


def test_photos_uploaded_over_the_api_are_queued_and_a_repeat_is_not(
    merchant_api, merchant, queued, django_capture_on_commit_callbacks
):
    product = ProductFactory(merchant=merchant)
    url = f"/api/v1/products/{product.pk}/images/"
    with django_capture_on_commit_callbacks(execute=True):
        first = merchant_api.post(
            url, {"file": upload(noise_png(3), "a.png")}, format="multipart"
        )
        again = merchant_api.post(
            url, {"file": upload(noise_png(3), "a.png")}, format="multipart"
        )
    assert (first.status_code, again.status_code) == (202, 200)
    assert queued == [first.json()["images"][0]["id"]]


def test_a_photo_stored_by_catalog_alone_is_not_classified(
    merchant, queued, django_capture_on_commit_callbacks
):
    product = ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        store_without_classifying(
            product=product, upload=upload(noise_png(4)), user=None
        )
        image, created = image_upload(
            product=product, upload=upload(noise_png(5)), user=None
        )
    assert created
    assert queued == [image.pk]


def test_a_category_changed_on_the_page_sends_a_disagreeing_prediction_to_review(
    merchant_client, merchant
):
    item = confident_prediction(merchant)
    product = item.image.product
    response = merchant_client.post(
        reverse("catalog:product-edit", args=[product.pk]),
        {"sku": product.sku, "name": product.name, "category": category("eyewear").pk},
    )
    assert response.status_code == 302
    assert statuses(item) == (
        Prediction.Status.NEEDS_REVIEW,
        ImageStatus.NEEDS_REVIEW,
    )


def test_a_category_changed_over_the_api_sends_a_disagreeing_prediction_to_review(
    merchant_api, merchant
):
    item = confident_prediction(merchant)
    product = item.image.product
    product_patched(merchant_api, product.pk, {"category": "eyewear"})
    item.refresh_from_db()
    assert item.status == Prediction.Status.NEEDS_REVIEW
    # The merchant agrees after all: the model's confident answer stands again.
    product_patched(merchant_api, product.pk, {"category": "apparel"})
    assert statuses(item) == (
        Prediction.Status.AUTO_ACCEPTED,
        ImageStatus.CLASSIFIED,
    )


def test_a_product_update_that_keeps_the_category_leaves_predictions_alone(
    merchant_api, merchant
):
    item = confident_prediction(merchant)
    product_patched(merchant_api, item.image.product_id, {"name": "Renamed"})
    item.refresh_from_db()
    assert item.status == Prediction.Status.AUTO_ACCEPTED
