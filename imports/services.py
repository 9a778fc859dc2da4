"""Catalog imports: a job per uploaded file, run in batches of rows.

import_job_create checks the file in the request (a ZIP's names, member count
and unpacked size, the CSV's header and row count), streams it to storage and
queues the job. The worker then takes VITRINE_IMPORT_BATCH_ROWS rows at a time
(imports.batches), each batch queueing the next, so a 10,000-row import never
runs into a task's time limit and a lost worker loses one batch at most.
"""

import logging
import os
import uuid
import zipfile
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import Merchant, User
from imports.batches import import_job_fail, import_job_run_batch, rows_of
from imports.errors import TOO_LARGE, ImportRefused
from imports.models import ImportJob
from imports.tasks import import_catalog_batch

logger = logging.getLogger(__name__)


def import_job_create(
    *, merchant: Merchant, user: User | None, file: File
) -> ImportJob:
    """Check ``file`` (a ZIP of photos with a CSV, or a CSV of photo URLs),
    store it and queue its import; raise ImportRefused for a file that cannot
    be imported, with nothing stored."""
    max_bytes = settings.VITRINE_IMPORT_MAX_FILE_BYTES
    if file.size is not None and file.size > max_bytes:
        raise ImportRefused(
            f"The file is {file.size / 1024**3:.2f} GB; the limit is "
            f"{max_bytes / 1024**3:.2f} GB.",
            code="file_too_large",
            status=TOO_LARGE,
        )
    file.seek(0)
    source = ImportJob.Source.ZIP if zipfile.is_zipfile(file) else ImportJob.Source.CSV
    file.seek(0)
    with rows_of(source, file) as (rows, _photos):
        total = sum(1 for _ in rows)
    if not total:
        raise ImportRefused("The CSV holds no rows.", code="csv_invalid")
    max_rows = settings.VITRINE_IMPORT_MAX_ROWS
    if total > max_rows:
        raise ImportRefused(
            f"The CSV holds {total} rows; the limit is {max_rows}.",
            code="too_many_rows",
            status=TOO_LARGE,
        )
    file.seek(0)
    key = f"imports/{merchant.pk}/{uuid.uuid4().hex}.{source}"
    key = default_storage.save(key, file)  # in chunks: never whole in memory
    with transaction.atomic():
        job = ImportJob.objects.create(
            merchant=merchant,
            created_by=user,
            source=source,
            file=key,
            original_name=os.path.basename(file.name or "")[:255],
            rows_total=total,
        )
        transaction.on_commit(lambda: import_catalog_batch.delay(job.pk, 0))
    logger.info("import %s queued: %s rows from %s", job.pk, total, key)
    return job


def import_job_run(*, job_id: int, progress: Callable[[ImportJob], None] | None = None):
    """Run every batch of the job here, one after another (the command's way)."""
    start = ImportJob.objects.values_list("rows_done", flat=True).get(pk=job_id)
    while start is not None:
        try:
            start = import_job_run_batch(
                job_id=job_id, start=start, queue_next=lambda _start: None
            )
        except ImportRefused as error:
            import_job_fail(job_id=job_id, reason=error.message)
            raise
        if progress:
            progress(ImportJob.objects.get(pk=job_id))
    return ImportJob.objects.get(pk=job_id)
