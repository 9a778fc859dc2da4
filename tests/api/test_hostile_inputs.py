"""Inputs an attacker would try answer a 4xx in the error shape, never a 500."""

import logging

import pytest
from django.core.files.storage import default_storage
from django.test import override_settings

from catalog.models import Product
from tests.api.conftest import assert_error
from tests.classification import queue_data


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        # Shallow enough to parse, deep enough to recurse later on.
        '{"name": ' + "[" * 900 + "]" * 900 + "}",
    ],
    ids=["array", "object", "parsable"],
)
def test_a_deeply_nested_json_body_is_a_parse_error(merchant_api, body):
    response = merchant_api.post(
        "/api/v1/products/", body, content_type="application/json"
    )
    error = assert_error(response, 400, "parse_error")
    assert "nests deeper" in error["message"]
    assert not Product.objects.exists()


def test_a_nested_body_on_a_staff_endpoint_is_refused_too(superuser_api):
    response = superuser_api.post(
        "/api/v1/models/train/",
        "[" * 100_000 + "]" * 100_000,
        content_type="application/json",
    )
    assert_error(response, 400, "parse_error")


def test_ordinary_nesting_still_parses(merchant_api):
    response = merchant_api.post(
        "/api/v1/products/",
        {"sku": "a-1", "name": "Boots", "price": "10.00"},
        format="json",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("key", ["a\x00b", "tab\there", "del\x7f"])
def test_an_idempotency_key_with_control_characters_is_refused(merchant_api, key):
    response = merchant_api.post(
        "/api/v1/products/",
        {"sku": "a-1", "name": "Boots", "price": "10.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert not Product.objects.exists()


def test_downloading_a_photo_whose_file_is_gone_is_a_404(
    merchant_api, merchant, caplog
):
    image = queue_data.prediction(merchant=merchant, with_file=True).image
    default_storage.delete(image.file.name)
    with caplog.at_level(logging.WARNING, logger="catalog.views"):
        response = merchant_api.get(f"/api/v1/images/{image.pk}/file/")
    assert_error(response, 404, "not_found")
    assert image.file.name in caplog.text


@pytest.mark.parametrize("debug", [False, True])
def test_the_api_root_is_an_index_of_the_api(anon, db, debug):
    with override_settings(DEBUG=debug):
        response = anon.get("/api/v1/")
    assert response.status_code == 200
    body = response.json()
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == "http://testserver/api/docs/"
    assert body["endpoints"]["products"] == "http://testserver/api/v1/products/"
    assert anon.get(body["schema"]).status_code == 200


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/v1/no-such-thing/",
        "/api/v2/products/",
        "/api/v1/products/1234567890123456789012/",
        "/api/nope",  # redirected to /api/nope/ first, as Django does
    ],
)
def test_unknown_api_paths_answer_the_json_404_in_debug_mode_too(
    merchant_api, path, debug
):
    with override_settings(DEBUG=debug):
        response = merchant_api.get(path, follow=True)
        assert_error(response, 404, "not_found")
        # Any method: a POST is not stopped by CSRF or answered HTML either.
        assert_error(merchant_api.post(path.rstrip("/") + "/", {}), 404, "not_found")


def test_a_path_without_its_slash_still_redirects_to_the_endpoint(merchant_api):
    response = merchant_api.get("/api/v1/products")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/products/"


@pytest.mark.parametrize(
    "query",
    [
        {"search": "a\x00b"},
        {"sku": "a\x00b"},
        {"category": "a\x00b"},
        {"page_size": "-1"},
        {"page": "²"},
        {"page": "0"},
        {"merchant": "99999999999999999999"},
    ],
)
def test_malformed_list_filters_are_400(merchant_api, query):
    response = merchant_api.get("/api/v1/products/", query)
    assert_error(response, 400, "invalid")


def test_a_page_past_the_end_is_404(merchant_api):
    response = merchant_api.get("/api/v1/products/", {"page": "9" * 30})
    assert_error(response, 404, "not_found")
