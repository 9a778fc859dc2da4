"""Signed deliveries to a real local receiver, with retries and a log."""

import hashlib
import hmac
import json
import socket
import time
import urllib.request
from datetime import timedelta
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from classification.services.intake import image_upload
from classification.services.reviews import prediction_review
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.images import photo_jpeg
from webhooks.deliveries import (
    MAX_ATTEMPTS,
    DeliveryFailed,
    deliveries_due_claim,
    delivery_attempt,
)
from webhooks.models import Delivery, Event
from webhooks.services import event_emit, webhook_create
from webhooks.tasks import retry_webhook_deliveries

pytestmark = pytest.mark.usefixtures("allow_loopback")


def pending_delivery(merchant, url: str) -> Delivery:
    """A webhook to ``url`` and one image.classified delivery waiting for it."""
    webhook = webhook_create(
        merchant=merchant, url=url, events=[Event.IMAGE_CLASSIFIED]
    )
    return Delivery.objects.create(
        webhook=webhook,
        event="image.classified",
        payload={},
        next_attempt_at=timezone.now(),
    )


def verify(received: dict, secret: str) -> dict:
    """Check the signature as a receiver would; return the payload."""
    header = received["headers"]["X-Vitrine-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + received["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)
    assert abs(int(parts["t"]) - time.time()) < 60
    return json.loads(received["body"])


def test_an_uploaded_photo_sends_a_signed_image_classified_event(
    merchant, receiver, django_capture_on_commit_callbacks
):
    webhook = webhook_create(
        merchant=merchant, url=receiver.url, events=[Event.IMAGE_CLASSIFIED]
    )
    product = ProductFactory(merchant=merchant, sku="CUP")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image, _ = image_upload(
            product=product, upload=upload(photo_jpeg("coffee")), user=None
        )
    # The classification ran on commit; its delivery is queued on its own commit.
    while callbacks:
        pending, callbacks[:] = list(callbacks), []
        with django_capture_on_commit_callbacks(execute=True) as more:
            for callback in pending:
                callback()
        callbacks.extend(more)
    (received,) = receiver.received
    payload = verify(received, webhook.secret)
    assert received["headers"]["X-Vitrine-Event"] == "image.classified"
    assert payload["event"] == "image.classified"
    assert payload["data"]["image"] == {
        "id": image.pk,
        "product": product.pk,
        "sku": "CUP",
        "status": "classified",
    }
    assert payload["data"]["prediction"]["category"] == "kitchen-drinkware"
    assert len(payload["data"]["prediction"]["top_k"]) == 5
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        Delivery.Status.SUCCEEDED,
        1,
        200,
    )
    assert received["headers"]["X-Vitrine-Delivery"] == str(delivery.pk)


def test_a_review_sends_image_reviewed_and_a_skip_sends_nothing(
    merchant, receiver, staff_user, django_capture_on_commit_callbacks
):
    webhook = webhook_create(
        merchant=merchant, url=receiver.url, events=[Event.IMAGE_REVIEWED]
    )
    skipped = queue_data.prediction(merchant=merchant)
    decided = queue_data.prediction(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        prediction_review(
            prediction_id=skipped.pk, reviewer=staff_user, decision="skipped"
        )
        prediction_review(
            prediction_id=decided.pk,
            reviewer=staff_user,
            decision="corrected",
            category=queue_data.category("footwear"),
        )
    (received,) = receiver.received
    payload = verify(received, webhook.secret)
    assert payload["data"]["review"] == {
        "prediction": decided.pk,
        "decision": "corrected",
        "category": "footwear",
        "previous_category": None,
    }
    assert payload["data"]["image"]["status"] == "reviewed"


def test_only_the_merchants_subscribed_active_webhooks_get_the_event(
    merchant, other_membership, receiver, django_capture_on_commit_callbacks
):
    webhook_create(merchant=merchant, url=receiver.url, events=[Event.IMAGE_REVIEWED])
    webhook_create(
        merchant=merchant,
        url=receiver.url,
        events=[Event.IMAGE_CLASSIFIED],
        active=False,
    )
    webhook_create(
        merchant=other_membership.merchant,
        url=receiver.url,
        events=[Event.IMAGE_CLASSIFIED],
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = event_emit(
            merchant_id=merchant.pk, event=Event.IMAGE_CLASSIFIED, data={}
        )
    assert deliveries == []
    assert receiver.received == []


def make_due(delivery: Delivery) -> None:
    """As if the delivery's retry time had come."""
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_upload_to_a_failing_receiver_makes_one_attempt_in_the_request(
    merchant, merchant_api, receiver, django_capture_on_commit_callbacks
):
    """In-process tasks: the failure is logged and the retry left to the upkeep,
    not made (seven times, with waits) inside the merchant's upload."""
    receiver.answers = [500]
    webhook_create(merchant=merchant, url=receiver.url, events=[Event.IMAGE_CLASSIFIED])
    product = ProductFactory(merchant=merchant, sku="CUP")
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_api.post(
            f"/api/v1/products/{product.pk}/images/",
            {"file": [upload(photo_jpeg("coffee"), "cup.jpg")]},
            format="multipart",
        )
    assert response.status_code == 202, response.content
    assert len(receiver.received) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        Delivery.Status.PENDING,
        1,
        500,
    )
    assert "500" in delivery.error
    assert delivery.next_attempt_at > delivery.last_attempt_at
    (logged,) = merchant_api.get(
        f"/api/v1/webhooks/{delivery.webhook_id}/deliveries/"
    ).json()["results"]
    assert (logged["attempts"], logged["status"]) == (1, "pending")
    assert logged["next_attempt_at"] is not None

    # Not due yet: the upkeep leaves it alone.
    assert retry_webhook_deliveries.apply().get() == 0
    assert len(receiver.received) == 1
    # Its time comes; the receiver now answers 200.
    make_due(delivery)
    assert retry_webhook_deliveries.apply().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (
        Delivery.Status.SUCCEEDED,
        2,
        200,
    )
    assert delivery.next_attempt_at is None
    assert len(receiver.received) == 2
    verify(receiver.received[1], delivery.webhook.secret)
    # Delivered: a later upkeep sends nothing more.
    assert retry_webhook_deliveries.apply().get() == 0
    assert len(receiver.received) == 2


def test_retries_back_off_and_a_receiver_that_never_answers_2xx_is_given_up(
    merchant, receiver
):
    receiver.answers = [500] * MAX_ATTEMPTS
    delivery = pending_delivery(merchant, receiver.url)
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=delivery.pk)
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
        make_due(delivery)
        assert retry_webhook_deliveries.apply().get() == 1
    assert [round(wait.total_seconds()) for wait in waits] == [
        30,
        60,
        120,
        240,
        480,
        960,
    ]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == MAX_ATTEMPTS == len(receiver.received)
    assert delivery.response_code == 500
    assert "500" in delivery.error
    assert delivery.next_attempt_at is None


def test_an_attempt_queued_twice_is_made_once(merchant, receiver):
    receiver.answers = [500, 500]
    delivery = pending_delivery(merchant, receiver.url)
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=delivery.pk)
    make_due(delivery)
    (claimed,) = deliveries_due_claim(limit=10)
    assert claimed == (delivery.pk, 1)
    # Claimed: a second upkeep run meanwhile does not hand it out again.
    assert deliveries_due_claim(limit=10) == []
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=delivery.pk, attempts=1)
    # A second copy of the same attempt (a message delivered twice) sends nothing.
    delivery_attempt(delivery_id=delivery.pk, attempts=1)
    assert len(receiver.received) == 2
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_retry_command_delivers_what_is_due(merchant, receiver):
    receiver.answers = [503]
    due = pending_delivery(merchant, receiver.url)
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=due.pk)
    make_due(due)
    later = pending_delivery(merchant, receiver.url)
    Delivery.objects.filter(pk=later.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    out = StringIO()
    call_command("retry_webhooks", stdout=out)
    assert "1 delivery attempted: 1 delivered" in out.getvalue()
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.attempts) == (Delivery.Status.SUCCEEDED, 2)
    assert (later.status, later.attempts) == (Delivery.Status.PENDING, 0)


def test_an_unreachable_receiver_is_logged(merchant, db):
    from tests.services import free_port

    delivery = pending_delivery(merchant, f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
    assert "Could not reach" in delivery.error
    assert delivery.attempts == 1


def test_a_delivered_event_is_not_sent_twice(merchant, receiver):
    delivery = pending_delivery(merchant, receiver.url)
    delivery_attempt(delivery_id=delivery.pk)
    delivery_attempt(delivery_id=delivery.pk)
    assert len(receiver.received) == 1


def test_private_addresses_are_refused_unless_allowed(merchant, settings):
    from webhooks.services import WebhookError

    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1/", "http://10.0.0.1/", "ftp://example.com/", "x"):
        with pytest.raises(WebhookError):
            webhook_create(merchant=merchant, url=url, events=[Event.IMAGE_CLASSIFIED])


def test_a_pinned_delivery_connects_to_the_checked_address_keeping_the_host_name(
    receiver,
):
    from webhooks.addresses import opener

    port = urlsplit(receiver.url).port
    request = urllib.request.Request(
        f"http://hooks.example:{port}/hook", data=b"{}", method="POST"
    )
    # The first address does not answer: the next one is tried.
    with opener(["127.0.0.2", "127.0.0.1"]).open(request, timeout=5) as answer:
        assert answer.status == 200
    assert receiver.received[0]["headers"]["Host"] == f"hooks.example:{port}"


def test_a_second_dns_answer_cannot_turn_a_delivery_to_the_local_network(
    merchant, receiver, settings, monkeypatch
):
    """DNS rebinding: public at the check, loopback when connecting."""
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False
    port = urlsplit(receiver.url).port
    public = "93.184.215.14"
    answers = iter([public, public])  # one for webhook_create, one for delivery

    def rebinding_resolver(host, port, *args, **kwargs):
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    connected = []

    def no_route_but_to_loopback(address, *args):
        # The machine has no route to the internet: refuse at once rather than
        # wait for a timeout, and remember where the delivery tried to go.
        connected.append(address)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("no route to the internet here")
        return real_create_connection(address, *args)

    real_create_connection = socket.create_connection
    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    monkeypatch.setattr(socket, "create_connection", no_route_but_to_loopback)
    delivery = pending_delivery(merchant, f"http://hooks.example:{port}/hook")
    with pytest.raises(DeliveryFailed):
        delivery_attempt(delivery_id=delivery.pk)
    assert connected == [(public, port)]
    assert receiver.received == []
    delivery.refresh_from_db()
    assert "Could not reach" in delivery.error
