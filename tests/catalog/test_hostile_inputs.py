"""Merchant pages answer malformed input with a page, never a 500."""

import logging

import pytest
from django.core.files.storage import default_storage

from tests.catalog.factories import ProductFactory
from tests.classification import queue_data


def test_a_search_with_a_nul_character_finds_nothing(merchant_client, merchant):
    ProductFactory(merchant=merchant, name="Boots a b")
    response = merchant_client.get("/", {"q": "a\x00b"})
    assert response.status_code == 200
    assert list(response.context["page"]) == []
    assert "Boots a b" not in response.content.decode()
    # An ordinary search still finds it.
    found = merchant_client.get("/", {"q": "boots"})
    assert [p.name for p in found.context["page"]] == ["Boots a b"]


@pytest.mark.parametrize(
    "query", [{"page": "9" * 30}, {"page": "-1"}, {"page": "²"}, {"status": "\x00"}]
)
def test_odd_list_parameters_show_a_page(merchant_client, merchant, query):
    ProductFactory(merchant=merchant)
    assert merchant_client.get("/", query).status_code == 200


@pytest.mark.parametrize("field", ["file", "thumbnail"])
def test_a_photo_whose_file_is_gone_is_a_404_and_a_warning(
    merchant_client, merchant, caplog, field
):
    image = queue_data.prediction(merchant=merchant, with_file=True).image
    name = getattr(image, field).name
    default_storage.delete(name)
    with caplog.at_level(logging.WARNING, logger="catalog.views"):
        response = merchant_client.get(f"/images/{image.pk}/{field}/")
    assert response.status_code == 404
    assert f"stored file {name} is missing" in caplog.text
