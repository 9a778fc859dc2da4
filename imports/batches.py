"""Running an import: a batch of rows at a time, each row on its own.

Re-running an import creates nothing twice: products are found by SKU within
the merchant, photos by their bytes (catalog's upload service and its de-dup).
A bad row or a bad photo is written to the job's report and the rest goes on.
Photos are stored through classification's intake, so each is classified as
an upload is.
"""

import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog import services as catalog_services
from classification.services import intake
from imaging.errors import ImageRejected
from imports.archive import Archive, archive_open
from imports.errors import RowFailed
from imports.fetch import is_url, photo_fetch
from imports.models import ImportJob
from imports.rows import csv_rows, row_parse

logger = logging.getLogger(__name__)

COUNTS = (
    "rows_failed",
    "products_created",
    "products_updated",
    "images_created",
    "images_existing",
    "images_failed",
)


@dataclass
class _Outcome:
    """What one batch did, added to the job in one write."""

    counts: dict = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    report: list = field(default_factory=list)

    def failed(self, *, row: int, sku: str, image: str, error: RowFailed) -> None:
        self.report.append(
            {
                "row": row,
                "sku": sku,
                "image": image,
                "code": error.code,
                "message": error.message,
            }
        )


def import_job_run_batch(
    *, job_id: int, start: int, queue_next: Callable[[int], None]
) -> int | None:
    """Import rows ``start`` to ``start + VITRINE_IMPORT_BATCH_ROWS`` of the job.

    ``queue_next(start)`` is called in the transaction that records the batch,
    unless it was the last. Return where the next batch starts, None when the
    job is done (or when this batch was done already: a task delivered twice
    changes nothing).
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.finished or job.rows_done != start:
            return None
        if job.status == ImportJob.Status.QUEUED:
            job.status, job.started_at = ImportJob.Status.RUNNING, timezone.now()
            job.save(update_fields=["status", "started_at"])
    end = min(start + settings.VITRINE_IMPORT_BATCH_ROWS, job.rows_total)
    outcome = _Outcome()
    categories = _categories()
    with _local_file(job) as path, rows_of(job.source, path) as (rows, photos):
        for index, values in enumerate(islice(rows, start, end), start=start):
            _row_import(
                job=job,
                values=values,
                row_number=index + 1,
                categories=categories,
                photos=photos,
                outcome=outcome,
            )
    done = end >= job.rows_total
    with transaction.atomic():
        updates = {name: F(name) + value for name, value in outcome.counts.items()}
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        job.report = [*job.report, *outcome.report]
        ImportJob.objects.filter(pk=job_id).update(
            rows_done=end,
            report=job.report,
            **updates,
            **(
                {"status": ImportJob.Status.SUCCEEDED, "finished_at": timezone.now()}
                if done
                else {}
            ),
        )
        if not done:
            queue_next(end)
    if done:
        _local_file_drop(job)
        logger.info("import %s done", job_id)
        return None
    return end


def import_job_fail(*, job_id: int, reason: str) -> None:
    """Record why the job stopped; rows already imported stay."""
    ImportJob.objects.filter(pk=job_id).exclude(
        status=ImportJob.Status.SUCCEEDED
    ).update(
        status=ImportJob.Status.FAILED,
        message=reason[:2000],
        finished_at=timezone.now(),
    )


def _categories() -> dict:
    found = {}
    for category in catalog_selectors.category_list():
        found[category.name.lower()] = category
        found[category.slug.lower()] = category
    return found


def _row_import(*, job, values, row_number, categories, photos, outcome) -> None:
    sku = (values.get("sku") or "").strip()
    if not values:
        return  # a blank line
    try:
        row = row_parse(values, line=row_number, categories=categories)
        with transaction.atomic():
            product = _product_upsert(job=job, row=row, outcome=outcome)
    except RowFailed as error:
        outcome.counts["rows_failed"] += 1
        outcome.failed(row=row_number, sku=sku, image="", error=error)
        return
    except catalog_services.ProductError as error:
        outcome.counts["rows_failed"] += 1
        outcome.failed(
            row=row_number,
            sku=sku,
            image="",
            error=RowFailed(error.code, error.message),
        )
        return
    for name in row.images:
        try:
            data = photos(name)
            prepared = catalog_services.image_prepare(
                upload=SimpleUploadedFile(_file_name(name), data)
            )
        except RowFailed as error:
            outcome.counts["images_failed"] += 1
            outcome.failed(row=row_number, sku=sku, image=name, error=error)
            continue
        except ImageRejected as error:
            outcome.counts["images_failed"] += 1
            outcome.failed(
                row=row_number,
                sku=sku,
                image=name,
                error=RowFailed(error.code, error.message),
            )
            continue
        [(image, created)] = intake.images_store(
            product=product, prepared=[prepared], user=job.created_by
        )
        if image.product_id != product.pk:
            # The row names this photo for its product: the bytes another
            # product already has are shared onto this one, stored once.
            image, created = intake.image_share(
                image=image, product=product, user=job.created_by
            )
        outcome.counts["images_created" if created else "images_existing"] += 1


def _product_upsert(*, job, row, outcome):
    product = catalog_selectors.product_for_sku(merchant=job.merchant, sku=row.sku)
    if product is None:
        if "name" not in row.fields:
            raise RowFailed("name_missing", "A new product needs a name.")
        outcome.counts["products_created"] += 1
        return catalog_services.product_create(
            merchant=job.merchant, sku=row.sku, **row.fields
        )
    changed = {
        name: value
        for name, value in row.fields.items()
        if getattr(product, name) != value
    }
    if changed:
        outcome.counts["products_updated"] += 1
        product = intake.product_update(product=product, **changed)
    return product


def _file_name(name: str) -> str:
    return PurePosixPath(name.split("?")[0]).name[:255] or "photo"


@contextmanager
def rows_of(source: str, file) -> Iterator[tuple[Iterator[dict], Callable]]:
    """The CSV's rows and the function that reads a photo a row names."""
    if source == ImportJob.Source.ZIP:
        archive = archive_open(file)
        try:
            with (
                archive.zip.open(archive.csv_name) as stream,
                closing(csv_rows(stream)) as rows,
            ):
                yield rows, _photo_reader(archive)
        finally:
            archive.zip.close()
    else:
        with _binary(file) as stream, closing(csv_rows(stream)) as rows:
            yield rows, _photo_reader(None)


@contextmanager
def _binary(file):
    if isinstance(file, (str, Path)):
        with open(file, "rb") as stream:
            yield stream
    else:
        # Left open: the caller owns the upload.
        yield file.file if hasattr(file, "file") else file


def _photo_reader(archive: Archive | None) -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        if is_url(name):
            return photo_fetch(url=name)
        if archive is None:
            raise RowFailed(
                "not_a_url",
                f"{name}: not an http(s) URL (only a ZIP import names its files).",
            )
        return archive.photo_read(name)

    return read


# --- The worker's copy of the upload ------------------------------------------
# zipfile needs to seek; an object store's file does not. A worker copies the
# upload once to a local file, which the job's later batches on the same host
# reuse, and which the last batch removes.


def _local_path(job: ImportJob) -> Path:
    return Path(tempfile.gettempdir()) / "vitrine-imports" / f"{job.pk}.{job.source}"


@contextmanager
def _local_file(job: ImportJob) -> Iterator[Path]:
    try:
        local = default_storage.path(job.file)
    except NotImplementedError:  # an object store
        local = None
    if local:
        yield Path(local)
        return
    path = _local_path(job)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
        try:
            with (
                default_storage.open(job.file, "rb") as source,
                partial.open("wb") as out,
            ):
                shutil.copyfileobj(source, out, 1024 * 1024)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    yield path


def _local_file_drop(job: ImportJob) -> None:
    _local_path(job).unlink(missing_ok=True)
