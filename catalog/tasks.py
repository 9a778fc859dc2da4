"""Celery tasks of the catalog: thin adapters around its services."""

from celery import shared_task

from catalog.services.orphans import storage_orphans, storage_orphans_remove


@shared_task(
    name="catalog.tasks.remove_storage_orphans",
    soft_time_limit=240,
    time_limit=300,
)
def remove_storage_orphans() -> int:
    """Delete stored photos no image names, past the grace period (periodic, by
    beat; service: storage_orphans_remove). Return how many were deleted."""
    return storage_orphans_remove(orphans=storage_orphans())
