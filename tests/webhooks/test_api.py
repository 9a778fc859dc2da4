"""Webhooks over the API: a merchant's own, secret shown once, log readable."""

import pytest

from tests.api.conftest import assert_error, assert_list_queries_flat
from webhooks.models import Delivery, Webhook
from webhooks.services import webhook_create

pytestmark = pytest.mark.usefixtures("allow_loopback")
URL = "/api/v1/webhooks/"
HOOK = "http://127.0.0.1:9/hook"


def test_a_merchant_registers_a_webhook_and_sees_its_secret_once(
    merchant_api, merchant
):
    response = merchant_api.post(URL, {"url": HOOK, "events": ["image.classified"]})
    assert response.status_code == 201, response.content
    body = response.json()
    webhook = Webhook.objects.get(pk=body["id"])
    assert (webhook.merchant, body["secret"]) == (merchant, webhook.secret)
    detail = merchant_api.get(f"{URL}{webhook.pk}/").json()
    assert "secret" not in detail
    assert detail["events"] == ["image.classified"]


def test_update_and_delete_a_webhook(merchant_api, merchant):
    webhook = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    response = merchant_api.patch(
        f"{URL}{webhook.pk}/", {"active": False, "events": ["image.reviewed"]}
    )
    assert response.status_code == 200
    webhook.refresh_from_db()
    assert (webhook.active, webhook.events) == (False, ["image.reviewed"])
    assert merchant_api.delete(f"{URL}{webhook.pk}/").status_code == 204
    assert not Webhook.objects.exists()


def test_bad_webhooks_are_refused(merchant_api, settings):
    error = assert_error(
        merchant_api.post(URL, {"url": "not a url", "events": ["nope"]}), 400, "invalid"
    )
    assert set(error["details"]) == {"url", "events"}
    assert_error(merchant_api.post(URL, {"url": HOOK, "events": []}), 400)
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    assert_error(
        merchant_api.post(URL, {"url": HOOK, "events": ["image.classified"]}), 400
    )
    assert not Webhook.objects.exists()


def test_another_merchants_webhook_is_404(merchant_api, other_membership):
    theirs = webhook_create(
        merchant=other_membership.merchant, url=HOOK, events=["image.classified"]
    )
    for method in ("get", "patch", "delete"):
        assert_error(getattr(merchant_api, method)(f"{URL}{theirs.pk}/"), 404)
    assert_error(merchant_api.get(f"{URL}{theirs.pk}/deliveries/"), 404)
    assert merchant_api.get(URL).json()["count"] == 0
    assert Webhook.objects.filter(pk=theirs.pk, active=True).exists()


def test_staff_add_webhooks_for_a_named_merchant(staff_api, merchant):
    assert_error(staff_api.post(URL, {"url": HOOK, "events": ["image.reviewed"]}), 400)
    response = staff_api.post(
        URL, {"url": HOOK, "events": ["image.reviewed"], "merchant": merchant.pk}
    )
    assert response.status_code == 201
    assert staff_api.get(URL).json()["count"] == 1


def test_the_delivery_log_costs_the_same_queries_whatever_the_page_size(
    merchant_api, merchant
):
    webhook = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    Delivery.objects.bulk_create(
        Delivery(webhook=webhook, event="image.classified", payload={"n": n})
        for n in range(12)
    )
    url = f"{URL}{webhook.pk}/deliveries/"
    assert_list_queries_flat(merchant_api, url, large=12, budget=6)
    for _ in range(11):
        webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    assert_list_queries_flat(merchant_api, URL, large=12, budget=5)
