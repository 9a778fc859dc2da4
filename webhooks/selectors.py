"""Reads for webhooks, scoped by merchant (None: all, for staff)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from webhooks.models import Delivery, Webhook

if TYPE_CHECKING:
    from accounts.models import Merchant


def webhook_list(*, merchant: Merchant | None) -> QuerySet[Webhook]:
    webhooks = Webhook.objects.all()
    if merchant is not None:
        webhooks = webhooks.filter(merchant=merchant)
    return webhooks.order_by("-created_at", "-id")


def webhook_get(*, merchant: Merchant | None, pk: int) -> Webhook:
    """Return the webhook, or raise Http404 if it is not the merchant's."""
    return get_object_or_404(webhook_list(merchant=merchant), pk=pk)


def delivery_list(*, webhook: Webhook) -> QuerySet[Delivery]:
    return Delivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")


def webhooks_for_event(
    *, merchant_ids: set[int], event: str
) -> dict[int, list[Webhook]]:
    """Each merchant's active webhooks subscribed to ``event``, in one query."""
    subscribed: dict[int, list[Webhook]] = {
        merchant_id: [] for merchant_id in merchant_ids
    }
    # Filtered in Python: subscriptions are few, and JSON containment lookups
    # differ between SQLite and PostgreSQL.
    for webhook in Webhook.objects.filter(merchant_id__in=merchant_ids, active=True):
        if event in webhook.events:
            subscribed[webhook.merchant_id].append(webhook)
    return subscribed
