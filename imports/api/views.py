"""Catalog imports: start one from an upload, follow its progress, download the
report of what failed. A merchant's owners and members only, on their merchant."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.api.permissions import MerchantScoped, request_merchant
from accounts.roles import Capability
from config.api import IDEMPOTENCY_KEY_PARAMETER, idempotent, validated
from imports import selectors, services
from imports.api.serializers import ImportCreateInputSerializer, ImportJobSerializer
from imports.models import ImportJob


def report_response(job: ImportJob) -> HttpResponse:
    """The job's report as a CSV download (pages and the API)."""
    response = HttpResponse(
        selectors.import_report_csv(job=job), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="import-{job.pk}-report.csv"'
    )
    return response


@extend_schema_view(
    list=extend_schema(description="The merchant's imports, newest first."),
    retrieve=extend_schema(
        description="One import: status, progress (0 to 1), counts, and the link "
        "to its report."
    ),
)
@extend_schema(tags=["imports"])
class ImportJobViewSet(
    MerchantScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ImportJobSerializer
    model = ImportJob
    scoped_list = selectors.import_job_list
    scoped_get = selectors.import_job_get
    capabilities = {
        "list": Capability.CATALOG_IMPORT,
        "retrieve": Capability.CATALOG_IMPORT,
        "create": Capability.CATALOG_IMPORT,
        "report": Capability.CATALOG_IMPORT,
    }
    parser_classes = [MultiPartParser]  # the one write is a file upload
    ordering_fields = ["created_at"]
    extra_error_codes = (413,)

    @extend_schema(
        request={"multipart/form-data": ImportCreateInputSerializer},
        responses={202: ImportJobSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description="Start an import from a ZIP of photos with a CSV, or a CSV of "
        "photo URLs: 202 with the job, which the worker runs. The file is checked "
        "first: an unsafe or oversized ZIP (traversal names, links, too many "
        "members or unpacked bytes), a CSV without `sku` and `name` columns, or "
        "too many rows is refused (400 or 413 with a code) and nothing is stored. "
        "Running the same import again creates nothing twice.",
    )
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request):
        data = validated(ImportCreateInputSerializer, request)
        job = services.import_job_create(
            merchant=request_merchant(request, self),
            user=request.user,
            file=data["file"],
        )
        return Response(
            ImportJobSerializer(job, context=self.get_serializer_context()).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        operation_id="imports_report",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV with columns row (the data row, the header not "
                "counted), sku, image (empty for the row itself), code, message.",
            )
        },
        description="Every row or photo of the import that failed, and why.",
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        return report_response(self.get_object())
