"""The media manager's operations through the API: delete, cover, order, share."""

import pytest
from django.core.files.storage import default_storage

from catalog.models import ProductImage
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.images import noise_png


@pytest.fixture(autouse=True)
def no_classification(monkeypatch):
    monkeypatch.setattr(
        "classification.tasks.classify_image.delay", lambda image_id: None
    )


def _photos(client, product, *seeds) -> list[int]:
    response = client.post(
        f"/api/v1/products/{product.pk}/images/",
        {"file": [upload(noise_png(s), f"{s}.png", "image/png") for s in seeds]},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return [image["id"] for image in response.json()["images"]]


def test_order_and_cover_show_in_the_product(merchant_api, merchant):
    product = ProductFactory(merchant=merchant)
    a, b, c = _photos(merchant_api, product, 1, 2, 3)
    url = f"/api/v1/products/{product.pk}/images/order/"
    assert (
        merchant_api.post(url, {"images": [c, a, b]}, format="json").status_code == 204
    )
    response = merchant_api.post(f"/api/v1/images/{b}/cover/")
    assert response.status_code == 200
    assert response.json()["is_cover"] is True
    images = merchant_api.get(f"/api/v1/products/{product.pk}/").json()["images"]
    # The cover first, then the merchant's order.
    assert [(i["id"], i["position"], i["is_cover"]) for i in images] == [
        (b, 2, True),
        (c, 0, False),
        (a, 1, False),
    ]


@pytest.mark.parametrize(
    "body",
    [{"images": []}, {"images": ["x"]}, {}, {"images": [1, 1]}],
    ids=["empty", "not-ids", "missing", "incomplete"],
)
def test_a_wrong_order_is_a_400_and_changes_nothing(merchant_api, merchant, body):
    product = ProductFactory(merchant=merchant)
    ids = _photos(merchant_api, product, 4, 5)
    response = merchant_api.post(
        f"/api/v1/products/{product.pk}/images/order/", body, format="json"
    )
    assert_error(response, 400, "invalid")
    assert list(product.images.order_by("position").values_list("pk", flat=True)) == ids


def test_share_then_delete_keeps_the_bytes_for_the_other_product(
    merchant_api, merchant, django_capture_on_commit_callbacks
):
    first, second = ProductFactory(merchant=merchant), ProductFactory(merchant=merchant)
    (image_id,) = _photos(merchant_api, first, 6)
    url = f"/api/v1/products/{second.pk}/images/share/"
    response = merchant_api.post(url, {"image": image_id}, format="json")
    assert response.status_code == 201, response.content
    shared_id = response.json()["id"]
    assert merchant_api.post(url, {"image": image_id}, format="json").json() == {
        "id": shared_id,
        "product": second.pk,
        "created": False,
    }
    key = ProductImage.objects.get(pk=image_id).file.name
    assert ProductImage.objects.get(pk=shared_id).file.name == key
    with django_capture_on_commit_callbacks(execute=True):
        assert merchant_api.delete(f"/api/v1/images/{image_id}/").status_code == 204
    assert default_storage.exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        assert merchant_api.delete(f"/api/v1/images/{shared_id}/").status_code == 204
    assert not default_storage.exists(key)


def test_another_merchants_photo_cannot_be_shared_deleted_or_covered(
    merchant_api, merchant, other_membership
):
    mine = ProductFactory(merchant=merchant)
    theirs = queue_data.image(merchant=other_membership.merchant)
    response = merchant_api.post(
        f"/api/v1/products/{mine.pk}/images/share/", {"image": theirs.pk}, format="json"
    )
    assert_error(response, 404, "image_not_found")
    assert merchant_api.delete(f"/api/v1/images/{theirs.pk}/").status_code == 404
    assert merchant_api.post(f"/api/v1/images/{theirs.pk}/cover/").status_code == 404
    assert ProductImage.objects.filter(pk=theirs.pk, is_cover=False).exists()


def test_bulk_sets_the_category_or_deletes(merchant_api, merchant):
    products = [ProductFactory(merchant=merchant) for _ in range(3)]
    ids = [p.pk for p in products[:2]]
    response = merchant_api.post(
        "/api/v1/products/bulk/",
        {"action": "set_category", "products": ids, "category": "footwear"},
        format="json",
    )
    assert response.json() == {"action": "set_category", "count": 2}
    for product in products[:2]:
        product.refresh_from_db()
        assert (product.category.slug, product.category_source) == (
            "footwear",
            "merchant",
        )
    response = merchant_api.post(
        "/api/v1/products/bulk/", {"action": "delete", "products": ids}, format="json"
    )
    assert response.json() == {"action": "delete", "count": 2}
    assert list(merchant.products.values_list("pk", flat=True)) == [products[2].pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "set_category", "products": ["{mine}"]}, "category"),
        ({"action": "delete", "products": ["{mine}", "{theirs}"]}, "products"),
        ({"action": "explode", "products": ["{mine}"]}, "action"),
        ({"action": "delete", "products": []}, "products"),
    ],
)
def test_a_bad_bulk_request_is_a_400_and_changes_nothing(
    merchant_api, merchant, other_membership, body, field
):
    mine = ProductFactory(merchant=merchant)
    theirs = ProductFactory(merchant=other_membership.merchant)
    ids = {"{mine}": mine.pk, "{theirs}": theirs.pk}
    body = {**body, "products": [ids[p] for p in body["products"]]}
    response = merchant_api.post("/api/v1/products/bulk/", body, format="json")
    error = assert_error(response, 400, "invalid")
    assert field in error["details"]
    mine.refresh_from_db()
    assert mine.category is None
    assert theirs.__class__.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
