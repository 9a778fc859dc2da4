"""How classification runs: how long a photo takes, and why some fail."""

from django.db.models import Case, Count, F, Value, When
from django.db.models.functions import Substr, TruncDate

from classification.selectors import PREDICTION_FAILED
from dashboard.selectors.scope import Scope, rounded

TOP_REASONS = 5
REASON_LENGTH = 120
NO_REASON = "(no reason recorded)"
OTHER_REASONS = "Other reasons"


def latency(scope: Scope) -> dict:
    days = scope.prediction_days

    def series(key):
        return [rounded(days[d][key]) if d in days else None for d in scope.period.days]

    p50, p95 = series("p50"), series("p95")
    return {
        "labels": scope.labels,
        "p50": p50,
        "p95": p95,
        "empty": all(v is None for v in p95),
    }


def failures(scope: Scope) -> dict:
    failed = scope.predictions(in_period=True).filter(PREDICTION_FAILED)
    reason = Case(
        When(error="", then=Value(NO_REASON)),
        default=Substr("error", 1, REASON_LENGTH),
    )
    top = [
        row["reason"]
        for row in failed.annotate(reason=reason)
        .values("reason")
        .annotate(n=Count("*"))
        .order_by("-n", "reason")[:TOP_REASONS]
    ]
    rows = []
    if top:
        rows = (
            failed.annotate(reason=reason)
            .annotate(
                bucket=Case(
                    When(reason__in=top, then=F("reason")),
                    default=Value(OTHER_REASONS),
                ),
                day=TruncDate("created_at"),
            )
            .values("day", "bucket")
            .annotate(n=Count("*"))
            .order_by()
        )
    series = {}
    for row in rows:
        days = series.setdefault(row["bucket"], dict.fromkeys(scope.period.days, 0))
        days[row["day"]] += row["n"]
    order = [r for r in [*top, OTHER_REASONS] if r in series]
    return {
        "labels": scope.labels,
        "datasets": [{"label": r, "data": list(series[r].values())} for r in order],
        "total": sum(sum(days.values()) for days in series.values()),
        "empty": not series,
    }
