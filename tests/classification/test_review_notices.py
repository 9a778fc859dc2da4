"""What a merchant reads on a product's page after a reviewer's decision."""

import pytest
from django.urls import reverse

from classification.services.reviews import prediction_review
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import (
    TOP5,
    category,
    prediction,
    with_merchant_category,
)

pytestmark = pytest.mark.django_db


def page(client, product) -> str:
    response = client.get(reverse("catalog:product-detail", args=[product.pk]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_merchant_is_told_a_reviewer_changed_the_category(
    merchant, merchant_client, reviewer
):
    product = with_merchant_category(
        ProductFactory(merchant=merchant, name="Sandal"), "footwear"
    )
    item = prediction(top=TOP5, product=product)
    assert 'id="product-notices"' not in page(merchant_client, product)
    prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
        set_product_category=True,
    )
    html = page(merchant_client, product)
    assert (
        "A reviewer changed this product's category from <strong>Footwear</strong> "
        "to <strong>Eyewear</strong> on"
    ) in html
    # The reviewer's name stays inside the platform.
    assert reviewer.username not in html


def test_merchant_is_told_when_a_reviewer_first_set_the_category(
    merchant, merchant_client, reviewer
):
    product = ProductFactory(merchant=merchant)
    item = prediction(top=TOP5, product=product)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    html = page(merchant_client, product)
    assert "A reviewer set this product's category to <strong>Apparel</strong>" in html


def test_the_notice_goes_when_the_merchant_chooses_the_category_again(
    merchant, merchant_client, reviewer
):
    product = ProductFactory(merchant=merchant, sku="S-1", name="Sandal")
    item = prediction(top=TOP5, product=product)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    response = merchant_client.post(
        reverse("catalog:product-edit", args=[product.pk]),
        {"sku": "S-1", "name": "Sandal", "category": category("footwear").pk},
    )
    assert response.status_code == 302
    assert "A reviewer" not in page(merchant_client, product)


def test_skips_tell_the_merchant_nothing(merchant, merchant_client, reviewer):
    product = ProductFactory(merchant=merchant)
    item = prediction(top=TOP5, product=product)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="skipped")
    assert "A reviewer" not in page(merchant_client, product)


def test_another_merchant_never_sees_the_notice(merchant, other_client, reviewer):
    product = ProductFactory(merchant=merchant)
    item = prediction(top=TOP5, product=product)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    response = other_client.get(reverse("catalog:product-detail", args=[product.pk]))
    assert response.status_code == 404
