"""Reads of catalog imports, scoped to the merchant."""

import csv
import io

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Merchant
from imports.models import ImportJob

REPORT_COLUMNS = ("row", "sku", "image", "code", "message")


def import_job_list(*, merchant: Merchant | None) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("created_by")
    if merchant is not None:
        jobs = jobs.filter(merchant=merchant)
    return jobs


def import_job_get(*, merchant: Merchant | None, pk: int) -> ImportJob:
    """Return the job, or raise Http404 if it is not the merchant's."""
    return get_object_or_404(import_job_list(merchant=merchant), pk=pk)


def import_report_csv(*, job: ImportJob) -> str:
    """The job's report as CSV: one line per failed row or photo, and why."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for entry in job.report:
        writer.writerow({k: _safe(entry.get(k, "")) for k in REPORT_COLUMNS})
    return out.getvalue()


def _safe(value):
    # A cell a spreadsheet would run as a formula (a SKU or message is the
    # merchant's own text) starts with a quote instead.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{value}"
    return value
