"""Writes for webhooks: subscriptions and events.

An event writes one Delivery row per subscribed webhook inside the caller's
transaction (so an event exists exactly when its cause was committed), and the
deliveries are queued once that transaction commits. Sending, signing and
retrying them is webhooks.deliveries'; the address checks, webhooks.addresses'.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from catalog.selectors import category_slugs, images_by_id
from classification.selectors import prediction_image_ids
from webhooks.addresses import webhook_url_check
from webhooks.deliveries import DELIVERY_LEASE
from webhooks.errors import WebhookError
from webhooks.models import Delivery, Event, Webhook
from webhooks.selectors import webhooks_for_event
from webhooks.tasks import deliver_webhook

if TYPE_CHECKING:
    from accounts.models import Merchant, User

logger = logging.getLogger(__name__)

SECRET_BYTES = 32  # 64 hex characters


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
