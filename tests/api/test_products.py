"""Products over the API: scoped to the merchant, filtered, paginated."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CategorySource, ImageStatus, Product
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory
from tests.classification.factories import ProductImageFactory

URL = "/api/v1/products/"


@pytest.fixture
def product(merchant):
    return ProductFactory(merchant=merchant, name="Blue mug", sku="MUG-1")


@pytest.fixture
def theirs(other_membership):
    return ProductFactory(merchant=other_membership.merchant, sku="THEIRS")


def test_a_merchant_lists_only_its_own_products(merchant_api, product, theirs):
    body = merchant_api.get(URL).json()
    assert [p["id"] for p in body["results"]] == [product.pk]
    assert body["count"] == 1


def test_staff_list_every_merchants_products_and_filter_by_merchant(
    staff_api, product, theirs
):
    assert staff_api.get(URL).json()["count"] == 2
    body = staff_api.get(URL, {"merchant": theirs.merchant_id}).json()
    assert [p["id"] for p in body["results"]] == [theirs.pk]


def test_a_user_of_no_merchant_is_refused(nobody_api, product):
    assert_error(nobody_api.get(URL), 403, "permission_denied")


def test_anonymous_requests_are_refused_with_401(anon, product):
    assert_error(anon.get(URL), 401, "not_authenticated")


def test_filters_on_category_status_sku_and_search(merchant_api, merchant):
    from catalog.models import Category

    mugs = Category.objects.get(slug="kitchen-drinkware")
    mug = ProductFactory(merchant=merchant, name="Tall mug", sku="M-1", category=mugs)
    shoe = ProductFactory(merchant=merchant, name="Red shoe", sku="S-9")
    ProductImageFactory(product=shoe, status=ImageStatus.NEEDS_REVIEW)
    ProductImageFactory(product=shoe, status=ImageStatus.CLASSIFIED)

    def ids(**params):
        return [p["id"] for p in merchant_api.get(URL, params).json()["results"]]

    assert ids(category="kitchen-drinkware") == [mug.pk]
    assert ids(status="needs_review") == [shoe.pk]
    assert ids(sku="S-9") == [shoe.pk]
    assert ids(search="tall") == [mug.pk]
    assert ids(uncategorised="true") == [shoe.pk]
    # The status filter does not narrow the counts to that status.
    body = merchant_api.get(URL, {"status": "needs_review"}).json()["results"][0]
    assert (body["image_count"], body["review_count"]) == (2, 1)
    assert_error(merchant_api.get(URL, {"status": "bogus"}), 400, "invalid")


def test_ordering_and_page_size_with_a_maximum(merchant_api, merchant, settings):
    settings.VITRINE_API_MAX_PAGE_SIZE = 3
    for name in ["b", "a", "d", "c"]:
        ProductFactory(merchant=merchant, name=name)
    body = merchant_api.get(URL, {"ordering": "name", "page_size": 50}).json()
    assert [p["name"] for p in body["results"]] == ["a", "b", "c"]
    assert body["count"] == 4 and body["next"]
    assert_error(merchant_api.get(URL, {"page": 99}), 404, "not_found")


@pytest.mark.parametrize("role", ["merchant", "staff"])
def test_the_list_costs_the_same_queries_whatever_the_page_size(
    role, merchant_api, staff_api, merchant, django_assert_max_num_queries
):
    client = merchant_api if role == "merchant" else staff_api
    for product in ProductFactory.create_batch(30, merchant=merchant):
        ProductImageFactory(product=product)
    client.get(URL)  # the token's first use records its time: one write, once
    counts = []
    for size in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(6):
        client.get(URL, {"page_size": 30})


def test_a_merchant_creates_a_product_with_its_category(merchant_api, merchant):
    response = merchant_api.post(
        URL,
        {
            "sku": " CUP-1 ",
            "name": "Cup",
            "price": "3.50",
            "category": "kitchen-drinkware",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    product = Product.objects.get(pk=body["id"])
    assert (product.merchant, product.sku, str(product.price)) == (
        merchant,
        "CUP-1",
        "3.50",
    )
    assert body["category"] == "kitchen-drinkware"
    assert body["category_source"] == CategorySource.MERCHANT


def test_create_validates_its_input(merchant_api):
    error = assert_error(
        merchant_api.post(URL, {"sku": " ", "price": "-1", "category": "nope"}),
        400,
        "invalid",
    )
    assert set(error["details"]) == {"sku", "name", "price", "category"}
    assert not Product.objects.exists()


def test_a_duplicate_sku_is_a_conflict(merchant_api, product):
    error = assert_error(
        merchant_api.post(URL, {"sku": product.sku, "name": "Again"}), 409, "conflict"
    )
    assert "sku" in error["details"]


def test_a_merchant_cannot_create_for_another_merchant(merchant_api, other_membership):
    response = merchant_api.post(
        URL, {"sku": "X", "name": "X", "merchant": other_membership.merchant_id}
    )
    assert_error(response, 400, "invalid")
    assert not Product.objects.exists()


def test_staff_create_for_the_merchant_they_name(staff_api, merchant):
    assert_error(staff_api.post(URL, {"sku": "X", "name": "X"}), 400, "invalid")
    response = staff_api.post(URL, {"sku": "X", "name": "X", "merchant": merchant.pk})
    assert response.status_code == 201
    assert Product.objects.get(sku="X").merchant == merchant


def test_read_update_and_delete_a_product(merchant_api, product):
    detail = f"{URL}{product.pk}/"
    assert merchant_api.get(detail).json()["sku"] == "MUG-1"
    response = merchant_api.patch(detail, {"name": "Green mug", "price": "9.99"})
    assert response.status_code == 200
    assert response.json()["name"] == "Green mug"
    response = merchant_api.put(detail, {"sku": "MUG-2", "name": "Mug"})
    assert response.json()["sku"] == "MUG-2"
    assert_error(merchant_api.put(detail, {"name": "no sku"}), 400, "invalid")
    assert merchant_api.delete(detail).status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_another_merchants_product_is_404_for_every_method(merchant_api, theirs):
    detail = f"{URL}{theirs.pk}/"
    assert_error(merchant_api.get(detail), 404, "not_found")
    assert_error(merchant_api.patch(detail, {"name": "mine now"}), 404)
    assert_error(merchant_api.put(detail, {"sku": "A", "name": "B"}), 404)
    assert_error(merchant_api.delete(detail), 404)
    assert_error(merchant_api.post(f"{detail}images/", {}, format="multipart"), 404)
    theirs.refresh_from_db()
    assert theirs.name != "mine now"


def test_staff_read_and_change_any_merchants_product(staff_api, theirs):
    response = staff_api.patch(f"{URL}{theirs.pk}/", {"name": "Fixed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Fixed"


def test_a_product_cannot_move_to_another_merchant(merchant_api, product, theirs):
    response = merchant_api.patch(
        f"{URL}{product.pk}/", {"merchant": theirs.merchant_id}
    )
    assert_error(response, 400, "invalid")
