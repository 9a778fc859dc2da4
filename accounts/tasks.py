"""Celery tasks: thin adapters around account services."""

from celery import shared_task

from accounts.services import idempotency_records_purge


@shared_task(
    name="accounts.tasks.purge_idempotency_keys", soft_time_limit=240, time_limit=300
)
def purge_idempotency_keys() -> int:
    """Delete Idempotency-Key answers past their 24 hours (periodic, by beat)."""
    return idempotency_records_purge()
