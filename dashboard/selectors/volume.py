"""How much comes in: uploads and classifications per day, and who uploads."""

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from accounts.selectors import merchant_names
from catalog.selectors import IMAGE_OUTCOMES
from dashboard.selectors.scope import ROW, Scope

TOP_MERCHANTS = 10


def activity(scope: Scope) -> dict:
    uploads = (
        scope.images(in_period=True)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
    )
    days = scope.prediction_days
    uploaded = scope.by_day(uploads)
    classified = [days[d]["classified"] if d in days else 0 for d in scope.period.days]
    return {
        "labels": scope.labels,
        "uploads": uploaded,
        "classified": classified,
        "empty": not (any(uploaded) or any(classified)),
    }


def merchants(scope: Scope) -> dict:
    rows = list(
        scope.images(in_period=True)
        .values("merchant_id")
        .annotate(
            total=Count("*"),
            **{
                key: Count(ROW, filter=Q(status__in=statuses))
                for key, _, statuses in IMAGE_OUTCOMES
            },
        )
        .order_by("-total", "merchant_id")[:TOP_MERCHANTS]
    )
    # Names only for the few on the chart, not joined to every photo.
    names = merchant_names(ids=[row["merchant_id"] for row in rows])
    return {
        "labels": [names[row["merchant_id"]] for row in rows],
        "totals": [row["total"] for row in rows],
        "datasets": [
            {"key": key, "label": label, "data": [row[key] for row in rows]}
            for key, label, _ in IMAGE_OUTCOMES
        ],
        "empty": not rows,
    }
