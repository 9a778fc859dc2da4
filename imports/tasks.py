"""Celery tasks of catalog imports: thin adapters around imports.batches."""

import logging

from celery import shared_task
from django.db import transaction

from config.tasks import TransientRetryTask
from imports.batches import import_job_fail, import_job_run_batch

logger = logging.getLogger(__name__)


class ImportBatchTask(TransientRetryTask):
    def record_failure(self, reason: str, job_id: int, start: int) -> None:
        import_job_fail(job_id=job_id, reason=reason)


# A batch of VITRINE_IMPORT_BATCH_ROWS rows, each photo decoded and stored (and
# fetched, for URLs): far within the limits at the default of 100 rows.
@shared_task(
    base=ImportBatchTask,
    name="imports.tasks.import_catalog_batch",
    soft_time_limit=1500,
    time_limit=1800,
)
def import_catalog_batch(job_id: int, start: int) -> None:
    """Import one batch of a job's rows, then queue the next (service:
    import_job_run_batch)."""

    def queue_next(next_start: int) -> None:
        transaction.on_commit(lambda: import_catalog_batch.delay(job_id, next_start))

    import_job_run_batch(job_id=job_id, start=start, queue_next=queue_next)
