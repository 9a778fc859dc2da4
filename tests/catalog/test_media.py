"""The product page's media manager: share, cover, reorder, delete, category
from a suggestion, and why a photo waits for review."""

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import CategorySource, ImageStatus, ProductImage
from classification.models import ModelVersion, Prediction, ReviewReason
from classification.services.predictions import image_classify
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data
from tests.images import noise_png, solid_jpeg

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def no_classification(monkeypatch):
    """Queued classification is run by the tests that want it, directly."""
    monkeypatch.setattr(
        "classification.tasks.classify_image.delay", lambda image_id: None
    )


def _upload(client, product, data, name="photo.jpg"):
    response = client.post(
        reverse("catalog:image-upload", args=[product.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="image/jpeg")},
        **JSON,
    )
    return response.json()["results"][0]


def _row(product, status=ImageStatus.NEEDS_REVIEW, **fields):
    image = queue_data.image(product=product, **fields)
    ProductImage.objects.filter(pk=image.pk).update(status=status)
    image.status = status
    return image


def _share(client, product, image_id):
    return client.post(
        reverse("catalog:image-share", args=[product.pk]), {"image": image_id}, **JSON
    )


def test_same_bytes_on_another_product_are_offered_and_shared_stored_once(
    merchant_client, merchant, django_capture_on_commit_callbacks
):
    first = ProductFactory(merchant=merchant, name="Mug, red")
    second = ProductFactory(merchant=merchant, name="Mug, blue")
    data = solid_jpeg((5, 6, 7))
    _upload(merchant_client, first, data)
    result = _upload(merchant_client, second, data)
    assert result["created"] is False
    assert "Mug, red" in result["note"] and "not added here" in result["note"]
    assert result["share_url"] == reverse("catalog:image-share", args=[second.pk])
    assert second.images.count() == 0

    response = _share(merchant_client, second, result["id"])
    assert response.status_code == 200, response.content
    assert "stored once" in response.json()["message"]
    original, shared = first.images.get(), second.images.get()
    assert shared.file.name == original.file.name
    assert shared.thumbnail.name == original.thumbnail.name
    assert shared.status == ImageStatus.PENDING
    # Sharing twice changes nothing.
    again = _share(merchant_client, second, result["id"]).json()
    assert again["message"] == "This photo is already on this product."
    assert second.images.count() == 1

    # Deleting it from one product keeps it, and its file, for the other.
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post(
            reverse("catalog:image-delete", args=[first.pk, original.pk]), **JSON
        )
    assert not ProductImage.objects.filter(pk=original.pk).exists()
    assert default_storage.exists(shared.file.name)
    response = merchant_client.get(reverse("catalog:image-file", args=[shared.pk]))
    assert b"".join(response.streaming_content) == data
    # The last row gone, the stored object goes too.
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post(
            reverse("catalog:image-delete", args=[second.pk, shared.pk]), **JSON
        )
    assert not default_storage.exists(shared.file.name)
    assert not default_storage.exists(shared.thumbnail.name)


def test_the_product_form_offers_photos_found_on_other_products(
    merchant_client, merchant
):
    first = ProductFactory(merchant=merchant, name="Lamp")
    data = solid_jpeg((50, 60, 70))
    _upload(merchant_client, first, data, name="lamp.jpg")
    response = merchant_client.post(
        reverse("catalog:product-create"),
        {
            "sku": "LAMP-2",
            "name": "Lamp, large",
            "images": SimpleUploadedFile("lamp.jpg", data, "image/jpeg"),
        },
        follow=True,
    )
    page = response.content.decode()
    assert "1 photo is already on other products, so not added here" in page
    assert "lamp.jpg is already on" in page
    assert "Use it on this product too" in page
    created = merchant.products.get(sku="LAMP-2")
    assert created.images.count() == 0


def test_sharing_needs_a_photo_of_ones_own_merchant(
    merchant_client, merchant, other_membership
):
    mine = ProductFactory(merchant=merchant)
    theirs = queue_data.image(merchant=other_membership.merchant)
    assert _share(merchant_client, mine, theirs.pk).status_code == 404
    assert _share(merchant_client, mine, "x").json()["code"] == "invalid"
    assert mine.images.count() == 0


def test_a_shared_photo_reuses_the_prediction_and_decides_for_its_product(
    merchant_client, merchant, settings
):
    """The model runs once per stored picture: the shared row's prediction is
    the stored one, and the product's own category decides if it is accepted."""
    apparel = queue_data.category("apparel")
    kitchen = queue_data.category("kitchen-drinkware")
    version = queue_data.model_version()
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ACTIVE)
    first = ProductFactory(merchant=merchant)
    # Chosen by the merchant: a confident Apparel suggestion needs a person.
    second = ProductFactory(
        merchant=merchant, category=kitchen, category_source=CategorySource.MERCHANT
    )
    original = _row(first, ImageStatus.CLASSIFIED, phash="0f0f0f0f0f0f0f0f")
    embedding = np.arange(8, dtype=np.float32)
    top_k = [
        {"category": "apparel", "probability": 0.91},
        {"category": "kitchen-drinkware", "probability": 0.05},
    ]
    Prediction.objects.create(
        image=original,
        model_version=version,
        category=apparel,
        confidence=0.91,
        margin=0.86,
        top_k=top_k,
        embedding=embedding.tobytes(),
        latency_ms=123.0,
        status=Prediction.Status.AUTO_ACCEPTED,
    )
    _share(merchant_client, second, original.pk)
    shared = second.images.get()

    outcome = image_classify(image_id=shared.pk)
    assert outcome.created
    prediction = outcome.prediction
    assert prediction.top_k == top_k
    assert bytes(prediction.embedding) == embedding.tobytes()
    assert prediction.latency_ms == 123.0
    assert prediction.status == Prediction.Status.NEEDS_REVIEW
    shared.refresh_from_db()
    second.refresh_from_db()
    assert shared.status == ImageStatus.NEEDS_REVIEW
    assert second.category == kitchen
    # A shared photo is not reported as a near-duplicate of itself.
    assert not shared.near_duplicates.exists()
    page = merchant_client.get(reverse("catalog:product-detail", args=[second.pk]))
    assert "Waits for review: disagrees with your category." in page.content.decode()
    # A second run changes nothing.
    assert not image_classify(image_id=shared.pk).created


def test_cover_photo_is_the_one_the_product_list_shows(merchant_client, merchant):
    product = ProductFactory(merchant=merchant)
    first = _upload(merchant_client, product, noise_png(1), "a.png")
    second = _upload(merchant_client, product, noise_png(2), "b.png")
    thumb = reverse("catalog:image-thumbnail", args=[second["id"]])
    assert (
        thumb
        not in merchant_client.get(reverse("catalog:product-list")).content.decode()
    )
    response = merchant_client.post(
        reverse("catalog:image-cover", args=[product.pk, second["id"]]), **JSON
    )
    assert response.json()["ok"] is True
    listing = merchant_client.get(reverse("catalog:product-list")).content.decode()
    assert thumb in listing
    assert reverse("catalog:image-thumbnail", args=[first["id"]]) not in listing
    merchant_client.post(
        reverse("catalog:image-cover", args=[product.pk, first["id"]]), **JSON
    )
    assert list(product.images.filter(is_cover=True).values_list("pk", flat=True)) == [
        first["id"]
    ]


def test_photos_keep_the_order_the_merchant_gives(merchant_client, merchant):
    product = ProductFactory(merchant=merchant)
    ids = [
        _upload(merchant_client, product, noise_png(n), f"{n}.png")["id"]
        for n in (11, 12, 13)
    ]
    # New photos go last.
    assert list(product.images.order_by("position").values_list("pk", flat=True)) == ids
    order_url = reverse("catalog:image-order", args=[product.pk])
    new = [ids[2], ids[0], ids[1]]
    response = merchant_client.post(
        order_url, {"order": ",".join(map(str, new))}, **JSON
    )
    assert response.status_code == 200
    page = merchant_client.get(reverse("catalog:product-detail", args=[product.pk]))
    html = page.content.decode()
    positions = [html.index(f'data-image-id="{pk}"') for pk in new]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "order",
    ["{a},{b}", "{a},{b},{b}", "{a},{b},{c},999999", "{a},x,{c}", ""],
    ids=["missing", "repeated", "foreign", "not-a-number", "empty"],
)
def test_a_wrong_order_is_refused_and_changes_nothing(merchant_client, merchant, order):
    product = ProductFactory(merchant=merchant)
    a, b, c = (
        _upload(merchant_client, product, noise_png(n), f"{n}.png")["id"]
        for n in (21, 22, 23)
    )
    response = merchant_client.post(
        reverse("catalog:image-order", args=[product.pk]),
        {"order": order.format(a=a, b=b, c=c)},
        **JSON,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(product.images.order_by("position").values_list("pk", flat=True)) == [
        a,
        b,
        c,
    ]


def test_another_merchants_photo_cannot_be_deleted_or_covered(
    merchant_client, merchant, other_membership
):
    theirs = queue_data.image(merchant=other_membership.merchant)
    for name in ("catalog:image-delete", "catalog:image-cover"):
        url = reverse(name, args=[theirs.product_id, theirs.pk])
        assert merchant_client.post(url, **JSON).status_code == 404
    mine = ProductFactory(merchant=merchant)
    url = reverse("catalog:image-delete", args=[mine.pk, theirs.pk])
    assert merchant_client.post(url, **JSON).status_code == 404
    assert ProductImage.objects.filter(pk=theirs.pk).exists()


def test_a_suggestion_sets_the_category_and_the_page_says_why_it_waits(
    merchant_client, merchant
):
    apparel = queue_data.category("apparel")
    version = queue_data.model_version()
    product = ProductFactory(merchant=merchant)
    image = queue_data.image(product=product)
    Prediction.objects.create(
        image=image,
        model_version=version,
        category=apparel,
        confidence=0.42,
        margin=0.1,
        top_k=[
            {"category": "apparel", "probability": 0.42},
            {"category": "kitchen-drinkware", "probability": 0.32},
        ],
        latency_ms=2631.0,
        status=Prediction.Status.NEEDS_REVIEW,
        review_reason=ReviewReason.LOW_CONFIDENCE,
    )
    _row(product, ImageStatus.CLASSIFIED)
    page = merchant_client.get(reverse("catalog:product-detail", args=[product.pk]))
    html = page.content.decode()
    threshold = f"{apparel.auto_accept_threshold:.2f}"
    assert f"42% is below the {threshold} threshold for Apparel" in html
    assert "1 of 2 classified, 1 waiting for review" in html
    # The model's name and timing are behind the details toggle.
    details = html[html.index('<details class="tech">') :]
    assert html.index(version.name) > html.index('<details class="tech">')
    assert "2631 ms" in details

    def choose(slug):
        return merchant_client.post(
            reverse("catalog:product-category", args=[product.pk]),
            {"category": slug},
            **JSON,
        )

    assert choose("kitchen-drinkware").status_code == 200
    product.refresh_from_db()
    assert product.category.slug == "kitchen-drinkware"
    assert product.category_source == CategorySource.MERCHANT
    assert choose("no-such").status_code == 400
    product.refresh_from_db()
    assert product.category.slug == "kitchen-drinkware"
