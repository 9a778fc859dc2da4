"""Merchant pages of catalog imports: upload a file, then follow the job."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import Capability, own_merchant_scope
from imports import selectors, services
from imports.api.views import report_response
from imports.errors import ImportRefused

RECENT = 20


def _merchant(request: HttpRequest):
    return own_merchant_scope(request.user, Capability.CATALOG_IMPORT)


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """The merchant's recent imports and the form that starts one.

    A POST answers JSON for the page's script (which shows upload progress)
    and redirects for a plain form.
    """
    merchant = _merchant(request)
    wants_json = request.accepts("application/json") and not request.accepts(
        "text/html"
    )
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ImportRefused("Choose a ZIP or CSV file.", code="no_file")
            job = services.import_job_create(
                merchant=merchant, user=request.user, file=upload
            )
        except ImportRefused as error:
            if wants_json:
                return JsonResponse(
                    {"ok": False, "code": error.code, "error": error.message},
                    status=error.status,
                )
            messages.error(request, error.message)
            status = error.status
        else:
            url = reverse("imports:import-detail", args=[job.pk])
            if wants_json:
                return JsonResponse({"ok": True, "id": job.pk, "url": url}, status=202)
            return redirect(url)
    jobs = selectors.import_job_list(merchant=merchant)[:RECENT]
    return render(
        request,
        "imports/import_list.html",
        {
            "jobs": jobs,
            "max_gb": settings.VITRINE_IMPORT_MAX_FILE_BYTES / 1024**3,
            "max_images": settings.VITRINE_IMPORT_MAX_IMAGES_PER_ROW,
        },
        status=status,
    )


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import; the page's script refreshes it from the API until it ends."""
    job = selectors.import_job_get(merchant=_merchant(request), pk=pk)
    return render(
        request,
        "imports/import_detail.html",
        {"job": job, "failures": job.report[:100], "more": len(job.report) > 100},
    )


@login_required
@require_GET
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.import_job_get(merchant=_merchant(request), pk=pk)
    return report_response(job)
