"""Celery tasks: thin adapters around webhook deliveries."""

import logging

from celery import shared_task

from webhooks import deliveries

logger = logging.getLogger(__name__)

# Due deliveries handed out per upkeep run. Each becomes its own task, so a run
# is a single query and a batch of messages; a full batch queues the next run.
RETRY_BATCH = 200


@shared_task(
    name="webhooks.tasks.deliver_webhook",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_webhook(delivery_id: int, attempts: int | None = None) -> None:
    """Make one attempt at a delivery (service: delivery_attempt).

    A failure is recorded with the time of the next attempt, which the periodic
    retry_webhook_deliveries makes: no retry waits in the broker, nor, when tasks
    run in-process, in the web request that caused the event.
    """
    try:
        deliveries.delivery_attempt(delivery_id=delivery_id, attempts=attempts)
    except deliveries.DeliveryFailed as error:
        logger.info("delivery %s failed: %s", delivery_id, error)


@shared_task(
    bind=True,
    name="webhooks.tasks.retry_webhook_deliveries",
    soft_time_limit=60,
    time_limit=90,
)
def retry_webhook_deliveries(self) -> int:
    """Queue an attempt for each delivery whose retry is due (periodic, by beat;
    service: deliveries_due_claim). Return how many were queued."""
    due = deliveries.deliveries_due_claim(limit=RETRY_BATCH)
    for delivery_id, attempts in due:
        deliver_webhook.delay(delivery_id, attempts)
    if len(due) == RETRY_BATCH and not self.request.is_eager:
        self.apply_async()
    return len(due)
