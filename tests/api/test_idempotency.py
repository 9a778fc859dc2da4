"""An Idempotency-Key makes a retried create safe."""

import json
from datetime import timedelta

from django.utils import timezone

from accounts.models import IdempotencyRecord
from accounts.services import idempotency_records_purge
from catalog.models import Product, ProductImage
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory, upload
from tests.images import noise_png

URL = "/api/v1/products/"


def test_a_retried_create_answers_the_first_answer_and_creates_once(merchant_api):
    first = merchant_api.post(
        URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="key-1"
    )
    again = merchant_api.post(
        URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.count() == 1


def test_without_a_key_a_retry_creates_again_and_conflicts(merchant_api):
    merchant_api.post(URL, {"sku": "A", "name": "Cup"})
    assert_error(merchant_api.post(URL, {"sku": "A", "name": "Cup"}), 409)


def test_a_key_reused_for_other_data_is_refused(merchant_api):
    merchant_api.post(URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k")
    response = merchant_api.post(
        URL, {"sku": "B", "name": "Mug"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert_error(response, 409, "idempotency_key_reused")
    assert Product.objects.count() == 1


def test_keys_belong_to_their_user(merchant_api, other_api):
    merchant_api.post(URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k")
    response = other_api.post(
        URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    assert Product.objects.count() == 2


def test_a_failed_request_does_not_keep_its_key(merchant_api):
    assert_error(
        merchant_api.post(URL, {"sku": "A"}, HTTP_IDEMPOTENCY_KEY="k"), 400, "invalid"
    )
    response = merchant_api.post(
        URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201


def test_a_request_still_running_with_the_key_is_a_conflict(merchant_api):
    from config.api import request_fingerprint  # noqa: F401  (documents the hash)

    IdempotencyRecord.objects.create(
        user=merchant_api.user, key="busy", fingerprint="x" * 64
    )
    assert_error(
        merchant_api.post(URL, {"sku": "A", "name": "C"}, HTTP_IDEMPOTENCY_KEY="busy"),
        409,
    )


def test_a_too_long_key_is_refused(merchant_api):
    response = merchant_api.post(
        URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k" * 256
    )
    assert_error(response, 400, "invalid_idempotency_key")


def test_keys_expire_after_a_day(merchant_api):
    merchant_api.post(URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="k")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    response = merchant_api.post(
        URL, {"sku": "B", "name": "Mug"}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


def test_a_retried_upload_is_replayed(merchant_api, merchant):
    product = ProductFactory(merchant=merchant)
    url = f"/api/v1/products/{product.pk}/images/"
    answers = [
        merchant_api.post(
            url,
            {"file": [upload(noise_png(9), "a.png")]},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()
    assert ProductImage.objects.count() == 1


def test_the_purge_command_deletes_expired_records(merchant_api):
    from io import StringIO

    from django.core.management import call_command

    merchant_api.post(URL, {"sku": "A", "name": "Cup"}, HTTP_IDEMPOTENCY_KEY="old")
    merchant_api.post(URL, {"sku": "B", "name": "Mug"}, HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "Deleted 1" in out.getvalue()
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_a_replayed_webhook_create_neither_stores_nor_answers_the_secret(
    merchant_api, settings
):
    from webhooks.models import Webhook

    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    data = {"url": "http://127.0.0.1:9/hook", "events": ["image.classified"]}
    first = merchant_api.post("/api/v1/webhooks/", data, HTTP_IDEMPOTENCY_KEY="hook-1")
    assert first.status_code == 201, first.content
    secret = Webhook.objects.get().secret
    assert first.json()["secret"] == secret
    record = IdempotencyRecord.objects.get(key="hook-1")
    assert record.response_status == 201
    assert "secret" not in record.response_body
    assert secret not in json.dumps(record.response_body)
    assert record.response_body["id"] == first.json()["id"]

    again = merchant_api.post("/api/v1/webhooks/", data, HTTP_IDEMPOTENCY_KEY="hook-1")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["Idempotent-Withheld"] == "secret"
    assert "secret" not in again.json()
    assert secret not in again.content.decode()
    assert again.json() == {k: v for k, v in first.json().items() if k != "secret"}
    assert Webhook.objects.count() == 1
