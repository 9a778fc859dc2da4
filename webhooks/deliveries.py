"""Signed deliveries: one attempt at a time, and the retry schedule.

Each delivery is a POST of the JSON payload with the header::

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
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.addresses import opener, webhook_url_check
from webhooks.errors import DeliveryFailed, WebhookError
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Vitrine-Signature"
USER_AGENT = "Vitrine-Webhooks/1"
# Seven attempts: at once, then after 30 s, 1, 2, 4, 8 and 16 minutes (about
# half an hour in all); see retry_delay.
MAX_ATTEMPTS = 7
# How long a claimed or running attempt keeps its delivery from being due again:
# longer than an attempt can take (the delivery task's hard time limit, 90 s).
DELIVERY_LEASE = timedelta(seconds=120)


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Vitrine-Signature header value for ``body`` sent at ``timestamp``.

    An empty key would make the signature one anybody can compute: refuse it.
    """
    if not secret:
        raise WebhookError("The webhook has no signing secret; rotate it.")
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


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
        with opener(addresses).open(
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
