"""The product page's status: what it tells the merchant while photos wait."""

import pytest
from django.urls import reverse

from catalog.models import ImageStatus
from classification.services.versions import (
    model_loading,
    model_version_ensure_default,
)
from tests.catalog.factories import ProductFactory
from tests.classification.factories import ProductImageFactory


@pytest.fixture
def product_waiting(merchant):
    """A product with one photo being classified."""
    product = ProductFactory(merchant=merchant)
    ProductImageFactory(product=product, status=ImageStatus.PROCESSING)
    return product


def status(client, product) -> dict:
    response = client.get(reverse("catalog:product-status", args=[product.pk]))
    assert response.status_code == 200
    return response.json()


def test_the_status_says_so_while_the_model_loads(merchant_client, product_waiting):
    version = model_version_ensure_default()
    with model_loading(version):
        data = status(merchant_client, product_waiting)
    assert data["model_loading"] is True
    assert "Loading the model" in data["message"]
    after = status(merchant_client, product_waiting)
    assert after["model_loading"] is False
    assert after["message"] == "Classifying 1 photo…"


def test_the_status_says_nothing_when_every_photo_is_done(merchant_client, merchant):
    product = ProductFactory(merchant=merchant)
    data = status(merchant_client, product)
    assert data["model_loading"] is False
    assert data["message"] == ""
