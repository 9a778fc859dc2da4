"""Writes for webhooks: subscriptions, events, and signed deliveries.

An event writes one Delivery row per subscribed webhook inside the caller's
transaction (so an event exists exactly when its cause was committed), and the
deliveries are queued once that transaction commits. Each delivery is a POST of
the JSON payload with the header::

    X-Vitrine-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">

keyed with the webhook's secret. The receiver recomputes it and rejects old
timestamps, which defeats replays.

A failed attempt is recorded with the time of the next one (``next_attempt_at``,
backing off up to MAX_ATTEMPTS); the periodic upkeep (``deliveries_due_claim``,
run by beat or ``manage.py retry_webhooks``) makes the retries. Retries never
run inside the request that caused the event, even when tasks run in-process.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.selectors import category_slugs, images_by_id
from classification.selectors import prediction_image_ids
from config.errors import InvalidInput
from webhooks.models import Delivery, Event, Webhook
from webhooks.selectors import webhooks_for_event

if TYPE_CHECKING:
    from accounts.models import Merchant, User

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vitrine-Signature"
USER_AGENT = "Vitrine-Webhooks/1"
SECRET_BYTES = 32  # 64 hex characters
# Seven attempts: at once, then after 30 s, 1, 2, 4, 8 and 16 minutes (about
# half an hour in all); see retry_delay.
MAX_ATTEMPTS = 7
# How long a claimed or running attempt keeps its delivery from being due again:
# longer than an attempt can take (the delivery task's hard time limit, 90 s).
DELIVERY_LEASE = timedelta(seconds=120)


class WebhookError(InvalidInput):
    """A webhook could not be written as asked."""


class DeliveryFailed(Exception):
    """A delivery attempt failed; ``permanent`` ones are not worth retrying."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# --- Subscriptions --------------------------------------------------------------


def webhook_create(
    *,
    merchant: Merchant,
    url: str,
    events: list[str],
    active: bool = True,
    user: User | None = None,
) -> Webhook:
    """Subscribe ``url`` to ``events`` for the merchant, with a new secret.

    The one way a webhook comes to exist (the API and the admin both call it):
    the URL is checked and the secret generated here, never taken from a caller.
    """
    webhook_url_check(url=url)
    return Webhook.objects.create(
        merchant=merchant,
        url=url,
        events=_clean_events(events),
        active=active,
        secret=_new_secret(),
        created_by=user,
    )


def webhook_secret_rotate(*, webhook: Webhook) -> Webhook:
    """Give the webhook a new signing secret; the old one stops signing at once.

    The caller shows the new secret once; it is never readable afterwards.
    """
    webhook.secret = _new_secret()
    webhook.save(update_fields=["secret", "updated_at"])
    logger.info("webhook %s: secret rotated", webhook.pk)
    return webhook


def _new_secret() -> str:
    return secrets.token_hex(SECRET_BYTES)


def webhook_update(*, webhook: Webhook, **fields) -> Webhook:
    allowed = {"url", "events", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise WebhookError(f"Unknown webhook fields: {', '.join(sorted(unknown))}")
    if "url" in fields:
        webhook_url_check(url=fields["url"])
    if "events" in fields:
        fields["events"] = _clean_events(fields["events"])
    for field, value in fields.items():
        setattr(webhook, field, value)
    webhook.save()
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def _clean_events(events: list[str]) -> list[str]:
    unknown = set(events) - set(Event.values)
    if unknown:
        raise WebhookError(f"Unknown events: {', '.join(sorted(unknown))}")
    if not events:
        raise WebhookError("Choose at least one event.")
    return sorted(set(events))


def webhook_url_check(*, url: str) -> list[str] | None:
    """Refuse URLs that would make the platform call itself or its network.

    Unless VITRINE_WEBHOOK_ALLOW_PRIVATE is set (tests, closed installs), the host
    must resolve to public addresses only; it is checked again before each
    delivery, since DNS answers change. Return the addresses checked (None when
    private ones are allowed): a delivery connects to those only, so a second DNS
    answer cannot point it at the local network.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError("The URL must be an http:// or https:// address.")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as error:
        raise WebhookError("The URL's port is not a valid port number.") from error
    if settings.VITRINE_WEBHOOK_ALLOW_PRIVATE:
        return None
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as error:
        raise WebhookError(f"The host {parts.hostname!r} does not resolve.") from error
    for info in infos:
        if not address_is_public(ipaddress.ip_address(info[4][0])):
            raise WebhookError(
                f"The host {parts.hostname!r} is a private or local address."
            )
    return list(dict.fromkeys(info[4][0] for info in infos))


# IPv6 prefixes that carry an IPv4 address in their last 32 bits and that
# ipaddress has no property for: NAT64's well-known prefix (RFC 6052) and the
# deprecated IPv4-compatible addresses (RFC 4291, ::a.b.c.d).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Local-use NAT64 (RFC 8215): the IPv4 address may sit anywhere after the
# prefix, and it only ever leads to a network of the operator's own.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a delivery may connect to ``address``.

    It must be global, and so must any IPv4 address an IPv6 one embeds: a
    translator or tunnel (NAT64, 6to4, Teredo, a dual stack's mapped form) could
    otherwise carry the connection to a private IPv4 network. The check does not
    trust ipaddress's tables for these forms, which vary across Python versions.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        for embedded in _embedded_ipv4(address):
            if not embedded.is_global:
                return False
    return address.is_global


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # the relay server and the client
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


# --- Events -------------------------------------------------------------------


def event_emit(*, merchant_id: int, event: Event, data: dict) -> list[Delivery]:
    """Record ``event`` for each of the merchant's webhooks that want it, and
    queue the deliveries once the current transaction commits."""
    return events_emit(event=event, items=[(merchant_id, data)])


def events_emit(*, event: Event, items: list[tuple[int, dict]]) -> list[Delivery]:
    """event_emit for many (merchant id, data) pairs: one query and one insert,
    whatever the number of items and merchants."""
    subscribed = webhooks_for_event(
        merchant_ids={merchant_id for merchant_id, _ in items}, event=event
    )
    now = timezone.now()
    created_at = now.isoformat()
    deliveries = [
        Delivery(
            webhook=webhook,
            event=event,
            payload={"event": str(event), "created_at": created_at, "data": data},
            # Queued at commit; should that message be lost, upkeep sends it.
            next_attempt_at=now + DELIVERY_LEASE,
        )
        for merchant_id, data in items
        for webhook in subscribed[merchant_id]
    ]
    if not deliveries:
        return []
    deliveries = Delivery.objects.bulk_create(deliveries)
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return deliveries


def _enqueue(delivery_ids: list[int]) -> None:
    # Deferred: webhooks.tasks imports this module (a task calls its service).
    from webhooks.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id, 0)


def image_classified(*, prediction) -> None:
    """Emit ``image.classified`` for a stored prediction."""
    image = prediction.image
    event_emit(
        merchant_id=image.merchant_id,
        event=Event.IMAGE_CLASSIFIED,
        data={
            "image": _image_data(image),
            "prediction": {
                "id": prediction.pk,
                "status": prediction.status,
                "category": prediction.category.slug if prediction.category else None,
                "confidence": prediction.confidence,
                "top_k": prediction.top_k,
                "model_version": {
                    "id": prediction.model_version_id,
                    "name": prediction.model_version.name,
                },
            },
        },
    )


def images_reviewed(*, reviews) -> None:
    """Emit ``image.reviewed`` for each decision (skips are not decisions).

    Reads what the payloads need afresh, in a fixed number of queries.
    """
    decided = [r for r in reviews if r.decision in ("accepted", "corrected")]
    if not decided:
        return
    predictions = {
        p["pk"]: p["image_id"]
        for p in prediction_image_ids(prediction_ids=[r.prediction_id for r in decided])
    }
    images = images_by_id(ids=set(predictions.values()))
    slugs = category_slugs(
        ids={r.final_category_id for r in decided}
        | {r.previous_category_id for r in decided}
    )
    items = []
    for review in decided:
        image = images[predictions[review.prediction_id]]
        items.append(
            (
                image.merchant_id,
                {
                    "image": _image_data(image),
                    "review": {
                        "prediction": review.prediction_id,
                        "decision": review.decision,
                        "category": slugs.get(review.final_category_id),
                        "previous_category": slugs.get(review.previous_category_id),
                    },
                },
            )
        )
    events_emit(event=Event.IMAGE_REVIEWED, items=items)


def _image_data(image) -> dict:
    return {
        "id": image.pk,
        "product": image.product_id,
        "sku": image.product.sku,
        "status": image.status,
    }


# --- Deliveries ---------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Vitrine-Signature header value for ``body`` sent at ``timestamp``.

    An empty key would make the signature one anybody can compute: refuse it.
    """
    if not secret:
        raise WebhookError("The webhook has no signing secret; rotate it.")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead a signed POST anywhere, the local network included.
    def redirect_request(self, *args, **kwargs):
        return None


def _pinned(connection_class, addresses: list[str] | None):
    """Return a factory for ``connection_class`` that connects to ``addresses``.

    The addresses are tried in order, as a resolver's answers would be. The
    request keeps its host name for the Host header and for TLS (SNI and the
    certificate check); only the TCP connection skips a second DNS lookup.
    """

    def connect_to_addresses(host_port, *args):
        error = None
        for address in addresses:
            try:
                return socket.create_connection((address, host_port[1]), *args)
            except OSError as failure:
                error = failure
        raise error

    def factory(host, **kwargs):
        connection = connection_class(host, **kwargs)
        if addresses:
            connection._create_connection = connect_to_addresses
        return connection

    return factory


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[str] | None) -> None:
        super().__init__()
        self.addresses = addresses

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.addresses), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[str] | None) -> None:
        super().__init__(context=_TLS_CONTEXT)
        self.addresses = addresses

    def https_open(self, req):
        return self.do_open(
            _pinned(http.client.HTTPSConnection, self.addresses),
            req,
            context=self._context,
        )


# One verifying TLS context (the CA bundle read once), shared by deliveries.
_TLS_CONTEXT = ssl.create_default_context()


def _opener(addresses: list[str] | None) -> urllib.request.OpenerDirector:
    # Deliveries go straight to the merchant's server, never through proxies
    # from the environment, and never follow redirects.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect,
        _PinnedHTTPHandler(addresses),
        _PinnedHTTPSHandler(addresses),
    )


def delivery_attempt(
    *, delivery_id: int, attempts: int | None = None
) -> Delivery | None:
    """POST the delivery once; record the outcome and when to try again.

    Return the delivery (None if it is gone). A delivery already made is not sent
    again, and neither is an attempt already made: ``attempts`` is the count the
    caller saw when it queued this attempt, so of two queued copies of one retry
    only the first sends. Raise DeliveryFailed when the receiver did not answer
    2xx in time (``permanent`` once there is no retry left).
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return delivery
        if attempts is not None and delivery.attempts != attempts:
            return delivery
        delivery.attempts += 1
        delivery.last_attempt_at = now
        # Not due again while this attempt runs (or if its process dies).
        delivery.next_attempt_at = now + DELIVERY_LEASE
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    webhook = delivery.webhook
    if not webhook.active:
        _finish(delivery, Delivery.Status.FAILED, None, "The webhook is inactive.")
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    try:
        request = urllib.request.Request(
            webhook.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Vitrine-Event": delivery.event,
                "X-Vitrine-Delivery": str(delivery.pk),
                SIGNATURE_HEADER: signature(
                    secret=webhook.secret, timestamp=int(time.time()), body=body
                ),
            },
        )
        addresses = webhook_url_check(url=webhook.url)
        with _opener(addresses).open(
            request, timeout=settings.VITRINE_WEBHOOK_TIMEOUT
        ) as answer:
            code = answer.status
    except WebhookError as error:
        _finish(delivery, Delivery.Status.FAILED, None, str(error))
        raise DeliveryFailed(str(error), permanent=True) from error
    except urllib.error.HTTPError as error:
        _failed(delivery, error.code, f"The receiver answered {error.code}.")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        _failed(delivery, None, f"Could not reach the receiver: {reason}")
    if not 200 <= code < 300:
        _failed(delivery, code, f"The receiver answered {code}.")
    _finish(delivery, Delivery.Status.SUCCEEDED, code, "")
    logger.info(
        "delivery %s (%s) to %s: %s", delivery.pk, delivery.event, webhook.pk, code
    )
    return delivery


def retry_delay(*, attempts: int) -> timedelta:
    """How long a delivery waits after its ``attempts``-th failed attempt."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def deliveries_due_claim(*, limit: int) -> list[tuple[int, int]]:
    """Claim up to ``limit`` pending deliveries whose next attempt is due.

    Return (delivery id, attempts so far) pairs, oldest due first, for the
    caller to attempt (``delivery_attempt(delivery_id=, attempts=)``). Claimed
    rows are not due again for DELIVERY_LEASE, so that upkeep running again
    meanwhile does not hand them out twice; rows another upkeep is claiming at
    this moment are skipped, not waited for.
    """
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "attempts")[:limit]
        )
        Delivery.objects.filter(pk__in=[pk for pk, _ in due]).update(
            next_attempt_at=now + DELIVERY_LEASE
        )
    return due


def _failed(delivery: Delivery, code: int | None, error: str) -> NoReturn:
    """Record a failed attempt, schedule the next one or give up; raise."""
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, Delivery.Status.FAILED, code, error)
        logger.warning(
            "delivery %s given up after %s attempts: %s",
            delivery.pk,
            delivery.attempts,
            error,
        )
        raise DeliveryFailed(error, permanent=True)
    delay = retry_delay(attempts=delivery.attempts)
    delivery.response_code, delivery.error = code, error[:2000]
    delivery.next_attempt_at = timezone.now() + delay
    delivery.save(update_fields=["response_code", "error", "next_attempt_at"])
    logger.info(
        "delivery %s failed (%s); next attempt in %s s",
        delivery.pk,
        error,
        int(delay.total_seconds()),
    )
    raise DeliveryFailed(error)


def _finish(delivery: Delivery, status: str, code: int | None, error: str) -> None:
    delivery.status, delivery.response_code, delivery.error = status, code, error[:2000]
    delivery.next_attempt_at = None
    if status == Delivery.Status.SUCCEEDED:
        delivery.delivered_at = timezone.now()
    delivery.save(
        update_fields=[
            "status",
            "response_code",
            "error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
