import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from catalog.models import ImageStatus, Product, ProductImage
from tests.catalog.factories import ProductFactory
from tests.classification.factories import ProductImageFactory
from tests.images import encode, mpo, noise_png, solid_jpeg


@pytest.fixture(autouse=True)
def no_classification(monkeypatch):
    """Keep these page tests about pages: queued classification is not run."""
    monkeypatch.setattr(
        "classification.tasks.classify_image.delay", lambda image_id: None
    )


def upload_url(product):
    return reverse("catalog:image-upload", args=[product.pk])


def test_pages_need_a_login(client, db):
    response = client.get(reverse("catalog:product-list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_product_list_shows_only_own_products(
    merchant_client, merchant, other_membership
):
    mine = ProductFactory(merchant=merchant, name="Mine")
    ProductFactory(merchant=other_membership.merchant, name="Theirs")
    response = merchant_client.get(reverse("catalog:product-list"))
    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [mine]
    assert b"Theirs" not in response.content


def test_product_list_query_count_does_not_grow_with_products(
    merchant_client, merchant, django_assert_max_num_queries
):
    for i in range(30):
        product = ProductFactory(merchant=merchant)
        if i % 3 == 0:
            ProductImageFactory(product=product)
    with django_assert_max_num_queries(8):
        response = merchant_client.get(reverse("catalog:product-list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 24


def test_create_product_with_photos_in_one_form(merchant_client, merchant):
    response = merchant_client.post(
        reverse("catalog:product-create"),
        {
            "sku": "A-1",
            "name": "Red mug",
            "images": [
                _file(solid_jpeg(), "a.jpg"),
                _file(noise_png(1), "b.png"),
            ],
        },
    )
    product = Product.objects.get(merchant=merchant, sku="A-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:product-detail", args=[product.pk])
    assert product.images.count() == 2
    assert set(product.images.values_list("status", flat=True)) == {ImageStatus.PENDING}


def test_create_with_one_bad_photo_stores_nothing(merchant_client, merchant):
    response = merchant_client.post(
        reverse("catalog:product-create"),
        {
            "sku": "A-2",
            "name": "Mug",
            "images": [
                _file(solid_jpeg(), "good.jpg"),
                _file(b"not an image", "bad.jpg"),
            ],
        },
    )
    assert response.status_code == 200
    assert "bad.jpg: This file is not an image" in response.content.decode()
    assert not Product.objects.filter(sku="A-2").exists()
    assert ProductImage.objects.count() == 0
    assert not default_storage.exists("images")


def test_duplicate_sku_is_a_form_error(merchant_client, merchant):
    ProductFactory(merchant=merchant, sku="DUP")
    response = merchant_client.post(
        reverse("catalog:product-create"), {"sku": "DUP", "name": "Again"}
    )
    assert response.status_code == 200
    assert "already have a product with this SKU" in response.content.decode()


def test_same_sku_is_fine_for_another_merchant(merchant_client, other_membership):
    ProductFactory(merchant=other_membership.merchant, sku="SHARED")
    response = merchant_client.post(
        reverse("catalog:product-create"), {"sku": "SHARED", "name": "Mine too"}
    )
    assert response.status_code == 302


def test_upload_answers_json_for_scripts(merchant_client, merchant):
    product = ProductFactory(merchant=merchant)
    response = merchant_client.post(
        upload_url(product),
        {"file": _file(solid_jpeg(), "mug.jpg")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    result = response.json()["results"][0]
    image = ProductImage.objects.get(pk=result["id"])
    assert result == {
        "name": "mug.jpg",
        "ok": True,
        "id": image.pk,
        "created": True,
        "status": "pending",
        "note": "",
        "share_url": "",
    }
    sha = image.sha256
    assert image.file.name == f"images/{merchant.pk}/{sha[:2]}/{sha}.jpg"
    assert image.thumbnail.name == f"thumbnails/{merchant.pk}/{sha[:2]}/{sha}.webp"
    assert default_storage.exists(image.file.name)
    assert default_storage.exists(image.thumbnail.name)
    assert image.uploaded_by == merchant.memberships.get().user


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a garbage", "not_an_image"),
        (b"", "empty_file"),
        (encode(Image.new("RGB", (64, 64)), "BMP"), "not_an_image"),
    ],
)
def test_bad_upload_gets_a_clear_error_and_leaves_nothing(
    merchant_client, merchant, data, code
):
    product = ProductFactory(merchant=merchant)
    response = merchant_client.post(
        upload_url(product),
        {"file": _file(data, "bad.jpg")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    result = response.json()["results"][0]
    assert result["ok"] is False and result["code"] == code and result["error"]
    assert ProductImage.objects.count() == 0
    assert (
        not default_storage.exists("images") or not default_storage.listdir("images")[0]
    )


def test_too_large_upload_is_refused(merchant_client, merchant, settings):
    settings.VITRINE_UPLOAD_MAX_BYTES = 1000
    product = ProductFactory(merchant=merchant)
    response = merchant_client.post(
        upload_url(product),
        {"file": _file(noise_png(3), "big.png")},
        HTTP_ACCEPT="application/json",
    )
    result = response.json()["results"][0]
    assert response.status_code == 400
    assert result["code"] == "file_too_large" and "limit is" in result["error"]
    assert ProductImage.objects.count() == 0


def test_a_multi_picture_jpeg_from_a_phone_is_stored_as_a_jpeg(
    merchant_client, merchant
):
    product = ProductFactory(merchant=merchant)
    data = mpo()
    response = merchant_client.post(
        upload_url(product),
        {"file": _file(data, "IMG_0001.JPG")},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content
    image = ProductImage.objects.get(pk=response.json()["results"][0]["id"])
    assert (image.format, image.width, image.height) == ("JPEG", 64, 48)
    assert image.file.name.endswith(".jpg")
    assert default_storage.open(image.file.name).read() == data


def test_the_product_form_takes_a_multi_picture_jpeg(merchant_client, merchant):
    response = merchant_client.post(
        reverse("catalog:product-create"),
        {"sku": "MPO-1", "name": "Lamp", "images": [_file(mpo(), "IMG_0002.JPG")]},
    )
    assert response.status_code == 302, response.content
    product = Product.objects.get(merchant=merchant, sku="MPO-1")
    assert list(product.images.values_list("format", flat=True)) == ["JPEG"]


def test_bad_upload_on_the_page_shows_a_message(merchant_client, merchant):
    product = ProductFactory(merchant=merchant)
    response = merchant_client.post(
        upload_url(product), {"file": _file(b"nope", "notes.txt")}, follow=True
    )
    assert response.status_code == 200
    assert "notes.txt: This file is not an image" in response.content.decode()


def test_same_bytes_twice_are_stored_once(merchant_client, merchant):
    first, second = (
        ProductFactory(merchant=merchant),
        ProductFactory(merchant=merchant, name="Twin"),
    )
    data = solid_jpeg((1, 2, 3))
    merchant_client.post(
        upload_url(first), {"file": _file(data)}, HTTP_ACCEPT="application/json"
    )
    response = merchant_client.post(
        upload_url(second), {"file": _file(data)}, HTTP_ACCEPT="application/json"
    )
    result = response.json()["results"][0]
    assert result["created"] is False
    assert first.name in result["note"]
    assert ProductImage.objects.count() == 1


def test_same_bytes_for_two_merchants_are_stored_apart(
    merchant_client,
    merchant,
    other_membership,
    other_client,
    django_capture_on_commit_callbacks,
):
    data = solid_jpeg((9, 9, 9))
    mine = ProductFactory(merchant=merchant)
    theirs = ProductFactory(merchant=other_membership.merchant)
    merchant_client.post(
        upload_url(mine), {"file": _file(data)}, HTTP_ACCEPT="application/json"
    )
    other_client.post(
        upload_url(theirs), {"file": _file(data)}, HTTP_ACCEPT="application/json"
    )
    mine_image, their_image = ProductImage.objects.order_by("pk")
    assert mine_image.file.name != their_image.file.name
    assert mine_image.thumbnail.name != their_image.thumbnail.name
    from catalog.services import product_delete

    with django_capture_on_commit_callbacks(execute=True):
        product_delete(product=mine)
    assert not default_storage.exists(mine_image.file.name)
    assert default_storage.exists(their_image.file.name)
    response = other_client.get(reverse("catalog:image-file", args=[their_image.pk]))
    assert b"".join(response.streaming_content) == data


def test_images_stored_under_the_shared_keys_of_before_stay_readable(
    merchant_client, merchant, other_membership, django_capture_on_commit_callbacks
):
    """Rows written before keys named the merchant keep their key; deleting one
    merchant's keeps the object while another merchant's row still names it."""
    from catalog.services import product_delete

    data = solid_jpeg((7, 7, 7))
    key = "images/ab/legacy.jpg"
    default_storage.save(key, ContentFile(data))
    mine = ProductFactory(merchant=merchant)
    theirs = ProductFactory(merchant=other_membership.merchant)
    for product in (mine, theirs):
        ProductImage.objects.create(
            product=product,
            merchant=product.merchant,
            file=key,
            sha256="ab" * 32,
            width=64,
            height=48,
            format="JPEG",
            byte_size=len(data),
        )
    response = merchant_client.get(
        reverse("catalog:image-file", args=[mine.images.get().pk])
    )
    assert b"".join(response.streaming_content) == data
    with django_capture_on_commit_callbacks(execute=True):
        product_delete(product=theirs)
    assert default_storage.exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        product_delete(product=mine)
    assert not default_storage.exists(key)


@pytest.mark.parametrize("name", ["product-detail", "product-edit", "product-status"])
def test_other_merchants_products_are_404(merchant_client, other_membership, name):
    theirs = ProductFactory(merchant=other_membership.merchant)
    response = merchant_client.get(reverse(f"catalog:{name}", args=[theirs.pk]))
    assert response.status_code == 404


def test_other_merchants_product_cannot_be_changed(merchant_client, other_membership):
    theirs = ProductFactory(merchant=other_membership.merchant, name="Safe")
    assert (
        merchant_client.post(
            reverse("catalog:product-delete", args=[theirs.pk])
        ).status_code
        == 404
    )
    assert (
        merchant_client.post(
            reverse("catalog:product-edit", args=[theirs.pk]),
            {"sku": "X", "name": "Hacked"},
        ).status_code
        == 404
    )
    assert (
        merchant_client.post(
            upload_url(theirs), {"file": _file(solid_jpeg())}
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.name == "Safe" and ProductImage.objects.count() == 0


@pytest.mark.parametrize("name", ["image-file", "image-thumbnail"])
def test_other_merchants_images_are_404(
    merchant_client, other_membership, other_client, name
):
    theirs = ProductFactory(merchant=other_membership.merchant)
    response = other_client.post(
        upload_url(theirs),
        {"file": _file(solid_jpeg())},
        HTTP_ACCEPT="application/json",
    )
    image_id = response.json()["results"][0]["id"]
    assert (
        other_client.get(reverse(f"catalog:{name}", args=[image_id])).status_code == 200
    )
    assert (
        merchant_client.get(reverse(f"catalog:{name}", args=[image_id])).status_code
        == 404
    )


def test_staff_without_merchant_is_sent_to_the_admin(client, staff_user):
    client.force_login(staff_user)
    response = client.get(reverse("catalog:product-list"))
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:index"
    )


def test_user_without_merchant_gets_a_clear_403(client, db):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("catalog:product-create"))
    assert response.status_code == 403
    assert "belongs to no merchant" in response.content.decode()


def test_edit_changes_fields_and_category_source(merchant_client, merchant):
    from catalog.models import Category

    product = ProductFactory(merchant=merchant)
    category = Category.objects.get(slug="footwear")
    response = merchant_client.post(
        reverse("catalog:product-edit", args=[product.pk]),
        {"sku": product.sku, "name": "Renamed", "category": category.pk},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.name, product.category, product.category_source) == (
        "Renamed",
        category,
        "merchant",
    )


def _file(data: bytes, name: str = "photo.jpg"):
    from tests.catalog.factories import upload

    return upload(data, name)


def test_status_filter_keeps_each_products_full_photo_count(merchant_client, merchant):
    from tests.classification.factories import ProductImageFactory

    product = ProductFactory(merchant=merchant)
    ProductImageFactory(product=product, status=ImageStatus.NEEDS_REVIEW)
    ProductImageFactory(product=product, status=ImageStatus.CLASSIFIED)
    ProductFactory(merchant=merchant)  # no photo waiting: filtered out
    response = merchant_client.get(
        reverse("catalog:product-list"), {"status": ImageStatus.NEEDS_REVIEW}
    )
    listed = list(response.context["page"].object_list)
    assert listed == [product]
    assert (listed[0].image_count, listed[0].review_count) == (2, 1)
