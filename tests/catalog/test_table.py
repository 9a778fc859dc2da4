"""The catalog table: sort, filter, search, remembered view, bulk actions."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import CategorySource, ImageStatus, Product
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data

LIST = reverse("catalog:product-list")
BULK = reverse("catalog:product-bulk")


@pytest.fixture
def catalog(merchant):
    apparel = queue_data.category("apparel")
    footwear = queue_data.category("footwear")
    shirt = ProductFactory(
        merchant=merchant,
        name="Shirt",
        sku="B-2",
        price=Decimal("30.00"),
        category=apparel,
        category_source=CategorySource.MODEL,
    )
    boot = ProductFactory(
        merchant=merchant,
        name="Boot",
        sku="C-3",
        price=Decimal("90.00"),
        category=footwear,
        category_source=CategorySource.MERCHANT,
    )
    lamp = ProductFactory(merchant=merchant, name="Lamp", sku="A-1")
    queue_data.image(product=boot)  # waiting for review
    return {"shirt": shirt, "boot": boot, "lamp": lamp}


def _rows(response) -> list[str]:
    html = response.content.decode()
    names = []
    for chunk in html.split('<td class="name">')[1:]:
        names.append(chunk.split(">", 1)[1].split("<", 1)[0])
    return names


def test_the_table_sorts_by_each_column_both_ways(merchant_client, catalog):
    cases = {
        "name": ["Boot", "Lamp", "Shirt"],
        "sku": ["Lamp", "Shirt", "Boot"],
        "price": ["Shirt", "Boot", "Lamp"],  # no price last
        "category": ["Shirt", "Boot", "Lamp"],
        "photos": ["Shirt", "Lamp", "Boot"],
        "source": ["Lamp", "Boot", "Shirt"],  # none, merchant, model
    }
    for key, expected in cases.items():
        response = merchant_client.get(LIST, {"view": "table", "sort": key})
        assert _rows(response) == expected, key
        if key in ("price", "category"):
            continue  # empty values stay last in both directions
        response = merchant_client.get(LIST, {"view": "table", "sort": f"-{key}"})
        assert _rows(response)[0] == expected[-1], key
    for key in ("price", "category"):
        response = merchant_client.get(LIST, {"view": "table", "sort": f"-{key}"})
        assert _rows(response) == ["Boot", "Shirt", "Lamp"], key


def test_the_table_filters_and_searches(merchant_client, catalog):
    def names(**query):
        return _rows(merchant_client.get(LIST, {"view": "table", **query}))

    assert names(category="footwear") == ["Boot"]
    assert names(category="none") == ["Lamp"]
    assert names(source="merchant") == ["Boot"]
    assert names(source="none") == ["Lamp"]
    assert names(status=ImageStatus.NEEDS_REVIEW) == ["Boot"]
    assert names(q="b-2") == ["Shirt"]
    # A bad filter value is said beside its field and left out.
    response = merchant_client.get(LIST, {"view": "table", "category": "nope"})
    assert "Select a valid choice" in response.content.decode()
    assert len(_rows(response)) == 3


def test_the_table_shows_price_currency_source_and_counts(
    merchant_client, catalog, settings
):
    settings.VITRINE_CURRENCY = "CHF"
    html = merchant_client.get(LIST, {"view": "table"}).content.decode()
    assert "90.00 CHF" in html
    assert "1 in review" in html
    assert "Merchant" in html


def test_the_chosen_view_is_remembered(merchant_client, catalog):
    merchant_client.get(LIST, {"view": "table"})
    assert 'class="product-table"' in merchant_client.get(LIST).content.decode()
    merchant_client.get(LIST, {"view": "tiles"})
    assert 'class="product-grid"' in merchant_client.get(LIST).content.decode()


def test_bulk_set_category_makes_it_the_merchants_choice(merchant_client, catalog):
    ids = [catalog["shirt"].pk, catalog["lamp"].pk]
    response = merchant_client.post(
        BULK,
        {"action": "set_category", "products": ids, "category": "footwear"},
        follow=True,
    )
    assert "Set the category of 2 products to Footwear." in response.content.decode()
    for product in Product.objects.filter(pk__in=ids):
        assert product.category.slug == "footwear"
        assert product.category_source == CategorySource.MERCHANT


def test_bulk_delete_asks_first_with_the_count(merchant_client, catalog):
    ids = [catalog["shirt"].pk, catalog["boot"].pk]
    response = merchant_client.post(BULK, {"action": "delete", "products": ids})
    assert "Delete 2 products?" in response.content.decode()
    assert Product.objects.filter(pk__in=ids).count() == 2
    response = merchant_client.post(
        BULK, {"action": "delete", "products": ids, "confirm": "on"}, follow=True
    )
    assert "Deleted 2 products." in response.content.decode()
    assert not Product.objects.filter(pk__in=ids).exists()
    assert Product.objects.filter(pk=catalog["lamp"].pk).exists()


def test_bulk_export_is_csv_of_the_selected(merchant_client, catalog, settings):
    settings.VITRINE_CURRENCY = "EUR"
    catalog["lamp"].name = "=HYPERLINK(1)"
    catalog["lamp"].save()
    response = merchant_client.post(
        BULK,
        {"action": "export", "products": [catalog["boot"].pk, catalog["lamp"].pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["sku", "name", "price", "currency"]
    assert rows[1] == ["A-1", "'=HYPERLINK(1)", "", "EUR", "", "", "0"]
    assert rows[2] == ["C-3", "Boot", "90.00", "EUR", "footwear", "merchant", "1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "delete"}, "Select at least one product."),
        ({"action": "set_category", "products": "{shirt}"}, "Choose the category"),
        ({"action": "explode", "products": "{shirt}"}, "Select a valid choice"),
    ],
)
def test_a_bad_bulk_request_is_said_and_changes_nothing(
    merchant_client, catalog, body, message
):
    body = {k: v.format(shirt=catalog["shirt"].pk) for k, v in body.items()}
    response = merchant_client.post(BULK, body, follow=True)
    assert message in response.content.decode()
    assert Product.objects.count() == 3


def test_another_merchants_products_are_not_touched(
    merchant_client, catalog, other_membership
):
    theirs = ProductFactory(merchant=other_membership.merchant)
    response = merchant_client.post(
        BULK,
        {"action": "delete", "products": [theirs.pk], "confirm": "on"},
        follow=True,
    )
    assert "does not exist any more" in response.content.decode()
    assert Product.objects.filter(pk=theirs.pk).exists()


def test_the_tables_queries_do_not_grow_with_products(
    merchant_client, merchant, django_assert_max_num_queries
):
    for _ in range(60):
        queue_data.image(product=ProductFactory(merchant=merchant))
    with django_assert_max_num_queries(9):
        response = merchant_client.get(LIST, {"view": "table", "sort": "photos"})
    assert len(_rows(response)) == 50
