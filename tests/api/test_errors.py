"""Every error answers one shape: {"error": {"code", "message", "details"}}."""

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data


def test_400_names_each_invalid_field(merchant_api):
    error = assert_error(
        merchant_api.post("/api/v1/products/", {"price": "cheap"}), 400, "invalid"
    )
    assert set(error["details"]) == {"sku", "name", "price"}
    assert isinstance(error["details"]["sku"], list)


def test_400_for_a_body_that_is_not_json(merchant_api):
    response = merchant_api.post(
        "/api/v1/products/", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_401_without_credentials_says_how_to_authenticate(anon, db):
    response = anon.get("/api/v1/products/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_403_for_a_role_that_may_not(merchant_api):
    assert_error(merchant_api.get("/api/v1/models/"), 403, "permission_denied")


def test_404_for_objects_and_for_unknown_api_paths(merchant_api):
    assert_error(merchant_api.get("/api/v1/products/999999/"), 404, "not_found")
    assert_error(merchant_api.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(merchant_api.get("/api/v2/products/"), 404, "not_found")


def test_pages_outside_the_api_keep_their_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_405_for_a_method_the_path_does_not_take(merchant_api):
    error = assert_error(merchant_api.delete("/api/v1/products/"), 405)
    assert error["code"] == "method_not_allowed"


def test_415_for_a_content_type_the_endpoint_does_not_read(merchant_api):
    response = merchant_api.post(
        "/api/v1/products/", "sku=a", content_type="text/plain"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_406_for_an_accept_header_the_api_cannot_answer(merchant_api):
    response = merchant_api.get("/api/v1/products/", HTTP_ACCEPT="text/csv")
    assert_error(response, 406, "not_acceptable")


def test_500_answers_the_shape_and_hides_the_cause(
    merchant, merchant_user, media_storage
):
    # Storage that answers a folder where the photo's file was is a server-side
    # failure (a file merely missing is a 404).
    image = queue_data.prediction(merchant=merchant, with_file=True).image
    default_storage.delete(image.file.name)
    (media_storage / image.file.name).mkdir()
    from accounts.services import api_token_create

    _, key = api_token_create(user=merchant_user)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    error = assert_error(client.get(f"/api/v1/images/{image.pk}/file/"), 500)
    assert error["code"] == "server_error"
    assert "IsADirectory" not in error["message"]


@pytest.mark.parametrize("rate_scope", ["merchant", "staff", "anon"])
def test_429_when_a_role_spends_its_budget(
    rate_scope, merchant_api, staff_api, anon, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            rate_scope: "3/minute",
        },
    }
    client = {"merchant": merchant_api, "staff": staff_api, "anon": anon}[rate_scope]
    url = "/api/v1/categories/"
    for _ in range(3):
        assert client.get(url).status_code == 200
    response = client.get(url)
    error = assert_error(response, 429, "throttled")
    assert 0 < error["details"]["retry_after"] <= 60
    assert int(response["Retry-After"]) == error["details"]["retry_after"]


def test_budgets_are_per_user_not_shared_between_merchants(
    merchant_api, other_api, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "merchant": "2/minute",
        },
    }
    for _ in range(2):
        merchant_api.get("/api/v1/products/")
    assert_error(merchant_api.get("/api/v1/products/"), 429)
    assert other_api.get("/api/v1/products/").status_code == 200


def test_the_token_endpoint_limits_password_guessing(anon, merchant_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "token": "2/minute",
        },
    }
    for _ in range(2):
        anon.post(
            "/api/v1/auth/token/",
            {"username": merchant_user.username, "password": "guess"},
        )
    response = anon.post(
        "/api/v1/auth/token/", {"username": merchant_user.username, "password": "x"}
    )
    assert_error(response, 429, "throttled")


def test_a_merchant_token_on_another_merchants_objects_gets_404_not_403(
    merchant_api, other_membership
):
    product = ProductFactory(merchant=other_membership.merchant)
    prediction = queue_data.prediction(product=product)
    for url in (
        f"/api/v1/products/{product.pk}/",
        f"/api/v1/images/{prediction.image_id}/",
        f"/api/v1/predictions/{prediction.pk}/",
    ):
        assert_error(merchant_api.get(url), 404, "not_found")


def test_413_for_a_body_over_djangos_limit(merchant_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = '{"sku": "A", "name": "' + "x" * 20_000 + '"}'
    response = merchant_api.post(
        "/api/v1/products/", body, content_type="application/json"
    )
    assert_error(response, 413, "request_too_large")
