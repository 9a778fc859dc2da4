"""Catalog imports: one job per uploaded ZIP or CSV, with its counts and report."""

from django.conf import settings
from django.db import models

from classification.models import Job


class ImportJob(models.Model):
    """A merchant's catalog import, run by the worker in batches of rows.

    ``report`` lists every row or photo that failed, and why: dicts with
    ``row`` (the CSV line), ``sku``, ``image`` (empty for the row itself),
    ``code`` and ``message``.
    """

    class Source(models.TextChoices):
        ZIP = "zip", "ZIP of photos with a CSV"
        CSV = "csv", "CSV with photo URLs"

    # The states of every background job a person starts.
    Status = Job.Status

    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="import_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    file = models.CharField(max_length=255, help_text="The upload's storage key.")
    original_name = models.CharField(max_length=255, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_failed = models.PositiveIntegerField(default=0)
    products_created = models.PositiveIntegerField(default=0)
    products_updated = models.PositiveIntegerField(default=0)
    images_created = models.PositiveIntegerField(default=0)
    images_existing = models.PositiveIntegerField(default=0)
    images_failed = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True, help_text="Why the job failed.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "-created_at"])]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        """From 0 to 1: the share of rows done."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        return self.rows_done / self.rows_total if self.rows_total else 0.0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
