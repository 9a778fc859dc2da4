"""Celery tasks: thin adapters around webhook services."""

import logging

from celery import shared_task

from webhooks import services

logger = logging.getLogger(__name__)

MAX_RETRIES = 6  # seven attempts over about an hour and a half


@shared_task(
    bind=True,
    name="webhooks.tasks.deliver_webhook",
    acks_late=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_webhook(self, delivery_id: int) -> None:
    """Send one webhook delivery (service: delivery_attempt), retrying failures."""
    try:
        services.delivery_attempt(delivery_id=delivery_id)
    except services.DeliveryFailed as error:
        if error.permanent:
            return
        if self.request.retries >= MAX_RETRIES:
            services.delivery_give_up(delivery_id=delivery_id, reason=str(error))
            return
        countdown = min(30 * 2**self.request.retries, 3600)
        logger.info(
            "delivery %s failed (%s); retry in %s s", delivery_id, error, countdown
        )
        raise self.retry(exc=error, countdown=countdown) from error
