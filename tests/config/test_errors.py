"""One error hierarchy: services raise it, the API and the pages map it once."""

import pytest
from django.contrib.messages import get_messages

from accounts.services import IdempotencyConflict, MemberConflict, MemberError
from catalog.services import CategoryConflict, CategoryError, ProductError
from classification.services.reviews import ReviewConflict, ReviewError
from classification.services.training import TrainingError
from classification.services.versions import NothingToRollBack
from config.errors import Conflict, InvalidInput, VitrineError
from config.exceptions import api_exception_handler
from imaging.errors import ImageRejected
from webhooks.services import WebhookError


def answer(error: Exception) -> tuple[int, dict]:
    response = api_exception_handler(error, {})
    return response.status_code, response.data


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProductError("A product with SKU 'A' already exists."), 409, "conflict"),
        (CategoryConflict("A category with slug 'x' already exists."), 409, "conflict"),
        (CategoryError("A category cannot be its own ancestor."), 400, "invalid"),
        (ReviewConflict("This prediction was already decided."), 409, "conflict"),
        (ReviewError("A skip takes no category."), 400, "invalid"),
        (TrainingError("epochs must be at least 1"), 400, "invalid"),
        (WebhookError("The URL must be an http:// address."), 400, "invalid"),
        (
            MemberConflict("last_owner", "A merchant keeps one owner."),
            409,
            "last_owner",
        ),
        (MemberError("invalid", "Too short.", "password"), 400, "invalid"),
        (
            IdempotencyConflict("idempotency_key_reused", "Used."),
            409,
            "idempotency_key_reused",
        ),
        (NothingToRollBack("nothing to roll back to"), 409, "conflict"),
    ],
)
def test_every_service_error_answers_its_status_and_code(error, status, code):
    assert isinstance(error, VitrineError)
    assert answer(error)[0] == status
    assert answer(error)[1]["error"]["code"] == code


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ImageRejected("not_an_image", "Not an image."), 415, "not_an_image"),
        (ImageRejected("too_many_pixels", "Too many pixels."), 413, "too_many_pixels"),
    ],
)
def test_an_image_refusal_answers_its_status_and_code(error, status, code):
    assert answer(error)[0] == status
    assert answer(error)[1]["error"]["code"] == code


def test_a_conflict_about_a_field_names_it_in_the_details():
    _, body = answer(ProductError("A product with SKU 'A' already exists."))
    assert body == {
        "error": {
            "code": "conflict",
            "message": "A product with SKU 'A' already exists.",
            "details": {"sku": ["A product with SKU 'A' already exists."]},
        }
    }


def test_invalid_input_answers_as_the_requests_own_validation_errors_do():
    _, body = answer(TrainingError("epochs must be at least 1"))
    assert body == {
        "error": {
            "code": "invalid",
            "message": "The request is invalid; see the details.",
            "details": {"params": ["epochs must be at least 1"]},
        }
    }
    _, body = answer(CategoryError("A category cannot be its own ancestor."))
    assert body["error"]["details"] == {
        "non_field_errors": ["A category cannot be its own ancestor."]
    }


def test_an_error_with_its_own_code_keeps_its_message_and_details():
    error = InvalidInput("Too long.", code="invalid_idempotency_key")
    assert answer(error) == (
        400,
        {
            "error": {
                "code": "invalid_idempotency_key",
                "message": "Too long.",
                "details": None,
            }
        },
    )
    assert answer(Conflict("Taken.", details={"id": 3}))[1]["error"]["details"] == {
        "id": 3
    }


pytestmark = pytest.mark.urls("tests.config.error_urls")


def test_a_page_visit_a_service_refuses_shows_the_reason_with_its_status(client):
    response = client.get("/refuse/")
    assert response.status_code == 404
    assert "There is no such product." in response.content.decode()


def test_a_form_a_service_refuses_goes_back_with_the_reason(client):
    response = client.post(
        "/refuse/", HTTP_REFERER="http://testserver/fine/?page=2", follow=False
    )
    assert response.status_code == 302
    assert response.url == "http://testserver/fine/?page=2"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "That SKU is taken by another product."
    ]


def test_a_form_from_another_site_goes_back_to_its_own_page(client):
    response = client.post("/refuse/", HTTP_REFERER="https://elsewhere.example/x")
    assert response.status_code == 302
    assert response.url == "/refuse/"


def test_other_errors_are_not_hidden(client):
    with pytest.raises(RuntimeError, match="a bug"):
        client.get("/broken/")


def test_api_paths_are_left_to_the_api(client):
    with pytest.raises(Conflict):
        client.post("/api/refuse/")
