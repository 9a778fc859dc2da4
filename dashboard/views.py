"""The platform dashboard: one page, its JSON, and a CSV per chart. Platform
admins only (accounts/roles.py)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.roles import Capability, denial_message, user_can
from dashboard.exports import chart_csv
from dashboard.forms import DashboardFilterForm
from dashboard.selectors import CHARTS, dashboard_chart, dashboard_data

# The cards of the page, in reading order: what each chart answers, and what an
# empty one means on a new install.
CARDS = [
    {
        "key": "activity",
        "title": "Uploads and classifications per day",
        "help": "Photos merchants uploaded, and predictions the model wrote.",
        "empty": "No photos were uploaded or classified in this period. Uploads "
        "appear here as soon as merchants add photos to their products.",
    },
    {
        "key": "backlog",
        "title": "Review backlog",
        "help": "Predictions waiting for a reviewer at the end of each day.",
        "empty": "Nothing waited for review in this period. Predictions below "
        "their category's auto-accept threshold queue up here.",
    },
    {
        "key": "backlog_age",
        "title": "Backlog age now",
        "help": "How long the predictions in the review queue have waited.",
        "empty": "The review queue is empty.",
    },
    {
        "key": "categories",
        "title": "Categories, predicted and confirmed",
        "help": "What the model predicted in this period, and the categories "
        "reviewers settled on for those predictions.",
        "empty": "No predictions or reviews in this period yet.",
    },
    {
        "key": "confidence",
        "title": "Confidence of predictions",
        "help": "How sure the model was, split by what happened next.",
        "empty": "No predictions in this period yet: the histogram fills in as "
        "photos are classified.",
    },
    {
        "key": "outcomes",
        "title": "Review outcomes and live precision",
        "help": "What reviewers decided about each model version's predictions "
        "of this period; precision is accepted over accepted plus corrected.",
        "empty": "No prediction of this period has been reviewed yet. Accept or "
        "correct predictions in the review queue and each model version's "
        "precision shows here.",
    },
    {
        "key": "confusion",
        "title": "Active model on reviewed photos",
        "help": "The active model's predictions of this period that reviewers "
        "decided. Rows: the category they settled on; columns: the model's "
        "prediction. The diagonal is where it was right.",
        "empty": "No reviewed predictions of the active model in this period.",
        "wide": True,
    },
    {
        "key": "latency",
        "title": "Classification latency",
        "help": "Median (p50) and p95 time to classify one photo, per day.",
        "empty": "No photos were classified in this period.",
    },
    {
        "key": "failures",
        "title": "Failures per day",
        "help": "Photos that could not be classified, by reason.",
        "empty": "No classification failed in this period.",
    },
    {
        "key": "merchants",
        "title": "Top merchants by uploads",
        "help": "The merchants who uploaded most in this period, by outcome.",
        "empty": "No merchant uploaded photos in this period.",
    },
]


def dashboard_access(view):
    """Send anonymous visitors to the login page and refuse anyone whose roles
    do not hold the dashboard."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not user_can(request.user, Capability.DASHBOARD_VIEW):
            raise PermissionDenied(denial_message(Capability.DASHBOARD_VIEW))
        return view(request, *args, **kwargs)

    return wrapper


@dashboard_access
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET)
    period = form.period_range()
    data = dashboard_data(period=period, merchant=form.chosen_merchant())
    charts = data["charts"]
    return render(
        request,
        "dashboard/index.html",
        {
            "form": form,
            "data": data,
            "cards": [{**c, "is_empty": charts[c["key"]]["empty"]} for c in CARDS],
            "all_empty": data["empty"],
            "query": form.query_string(),
        },
    )


@dashboard_access
@require_GET
def data_json(request: HttpRequest) -> JsonResponse:
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = dashboard_data(
        period=form.cleaned_data["range"], merchant=form.cleaned_data["merchant"]
    )
    return JsonResponse(data)


@dashboard_access
@require_GET
def export_csv(request: HttpRequest, chart: str) -> HttpResponse:
    if chart not in CHARTS:
        raise Http404("No such chart.")
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(m for ms in form.errors.values() for m in ms)
        return HttpResponse(
            errors, status=400, content_type="text/plain; charset=utf-8"
        )
    period = form.cleaned_data["range"]
    merchant = form.cleaned_data["merchant"]
    data = dashboard_chart(name=chart, period=period, merchant=merchant)
    name = f"vitrine-{chart}-{period.start}-{period.end}"
    if merchant is not None:
        name += f"-{merchant.slug}"
    response = HttpResponse(
        chart_csv(name=chart, data=data), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
