"""Input and output of the catalog import API."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import read_only_slug
from imports.batches import COUNTS
from imports.models import ImportJob


class ImportCreateInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="A ZIP of photos holding one CSV, or a CSV whose `image` column "
        "holds photo URLs. CSV columns: sku, name (required), description, price, "
        "category (slug or name), image (several separated by `|` or `;`). At "
        "most VITRINE_IMPORT_MAX_FILE_BYTES.",
    )


class ImportJobSerializer(serializers.ModelSerializer):
    created_by = read_only_slug("username")
    progress = serializers.FloatField(read_only=True, help_text="From 0 to 1.")
    failures = serializers.SerializerMethodField(
        help_text="Rows and photos in the report."
    )
    report_url = serializers.SerializerMethodField(
        help_text="The report of every failed row or photo, as CSV."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "source",
            "status",
            "progress",
            "original_name",
            "rows_total",
            "rows_done",
            *COUNTS,
            "failures",
            "report_url",
            "message",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_failures(self, job: ImportJob) -> int:
        return len(job.report)

    @extend_schema_field(serializers.URLField())
    def get_report_url(self, job: ImportJob) -> str:
        url = reverse("api:import-report", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
