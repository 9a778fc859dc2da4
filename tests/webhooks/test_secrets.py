"""Signing secrets: always generated, never empty, shown once, rotatable."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from tests.api.conftest import assert_error
from webhooks.deliveries import signature
from webhooks.models import Webhook
from webhooks.services import WebhookError, webhook_create

pytestmark = pytest.mark.usefixtures("allow_loopback")
HOOK = "http://127.0.0.1:9/hook"
ADD = reverse("admin:webhooks_webhook_add")
CHANGELIST = reverse("admin:webhooks_webhook_changelist")


def admin_add(admin_client, merchant, url=HOOK):
    return admin_client.post(
        ADD,
        {
            "merchant": merchant.pk,
            "url": url,
            "events": ["image.classified"],
            "active": "on",
        },
    )


def test_a_webhook_added_in_the_admin_gets_a_secret_shown_once(admin_client, merchant):
    response = admin_add(admin_client, merchant)
    assert response.status_code == 200, response.content
    webhook = Webhook.objects.get()
    assert len(webhook.secret) >= 32
    page = response.content.decode()
    assert page.count(webhook.secret) == 1
    assert "no-store" in response["Cache-Control"]
    assert (webhook.merchant, webhook.events) == (merchant, ["image.classified"])
    change = admin_client.get(
        reverse("admin:webhooks_webhook_change", args=[webhook.pk])
    )
    assert change.status_code == 200
    assert webhook.secret not in change.content.decode()


def test_the_admin_checks_the_url_as_the_api_does(admin_client, merchant, settings):
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    response = admin_add(admin_client, merchant)
    assert response.status_code == 200
    assert "private or local address" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_admin_change_form_neither_shows_nor_edits_the_secret(
    admin_client, merchant
):
    webhook = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    url = reverse("admin:webhooks_webhook_change", args=[webhook.pk])
    page = admin_client.get(url).content.decode()
    assert webhook.secret not in page
    assert 'name="secret"' not in page
    response = admin_client.post(
        url,
        {
            "url": "http://127.0.0.1:9/other",
            "events": ["image.reviewed"],
            "secret": "attacker-chosen",
        },
    )
    assert response.status_code == 302, response.content
    changed = Webhook.objects.get()
    assert changed.secret == webhook.secret
    assert (changed.url, changed.events, changed.active) == (
        "http://127.0.0.1:9/other",
        ["image.reviewed"],
        False,
    )


def test_the_admin_rotate_action_shows_each_new_secret_once(admin_client, merchant):
    first = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    second = webhook_create(merchant=merchant, url=HOOK, events=["image.reviewed"])
    old = {first.pk: first.secret, second.pk: second.secret}
    response = admin_client.post(
        CHANGELIST,
        {"action": "rotate_secret", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 200
    page = response.content.decode()
    for webhook in Webhook.objects.all():
        assert webhook.secret != old[webhook.pk]
        assert page.count(webhook.secret) == 1
        assert old[webhook.pk] not in page
    assert "no-store" in response["Cache-Control"]


def test_the_api_rotates_a_secret_and_answers_it_once(
    merchant_api, merchant, other_api
):
    webhook = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    url = f"/api/v1/webhooks/{webhook.pk}/rotate-secret/"
    assert_error(other_api.post(url), 404)
    response = merchant_api.post(url)
    assert response.status_code == 200, response.content
    webhook_after = Webhook.objects.get()
    assert response.json()["secret"] == webhook_after.secret != webhook.secret
    assert "no-store" in response["Cache-Control"]
    assert "secret" not in merchant_api.get(f"/api/v1/webhooks/{webhook.pk}/").json()


def test_signing_refuses_an_empty_key():
    with pytest.raises(WebhookError):
        signature(secret="", timestamp=1, body=b"{}")


@pytest.mark.parametrize("secret", ["", "short"])
def test_the_database_refuses_an_empty_or_short_secret(merchant, secret):
    with pytest.raises(IntegrityError), transaction.atomic():
        Webhook.objects.create(
            merchant=merchant, url=HOOK, events=["image.classified"], secret=secret
        )
