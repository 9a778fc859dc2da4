"""The review queue: how long it was at the end of each day, and how old what
waits in it now is."""

from django.db.models import Case, Count, DateField, Value, When
from django.db.models.functions import TruncDate

from classification.selectors import (
    PREDICTION_SENT_TO_REVIEW,
    prediction_replaced_unreviewed,
    review_decisive,
)
from dashboard.selectors.scope import AGE_BUCKETS, Scope, rounded


def backlog(scope: Scope) -> dict:
    """The backlog at the end of each day of the period, counted back from now.

    What waits now is known (the review queue); going back one day adds back
    what left that day (first decisions, replacements) and takes away what
    joined it (predictions sent to review). So only the days from the
    period's start to now are read, each from an index, and no query joins
    reviews to predictions except for the few failed ones a reviewer decided.
    The running total over the days is the only arithmetic left to Python.
    """
    period = scope.period
    start_at, end_at = period.start_at, period.end_at

    def day_or_after(field):
        return Case(
            When(**{f"{field}__gte": end_at}, then=Value(None)),
            default=TruncDate(field),
            output_field=DateField(),
        )

    days = scope.prediction_days
    joined = {d: days[d]["joined"] if d in days else 0 for d in period.days}
    left = dict.fromkeys(period.days, 0)
    # What left minus what joined after the period's last day.
    after = 0

    decided = review_decisive(merchant=scope.merchant, since=start_at)
    # A decision on a failed prediction never took one off the backlog.
    failed_first = decided.filter(prediction__confidence__isnull=True)
    replaced = prediction_replaced_unreviewed(merchant=scope.merchant, since=start_at)
    for sign, queryset, field in (
        (1, decided, "created_at"),
        (-1, failed_first, "created_at"),
        (1, replaced, "replaced_at"),
    ):
        rows = (
            queryset.values(day=day_or_after(field)).annotate(n=Count("*")).order_by()
        )
        for row in rows:
            if row["day"] is None:
                after += sign * row["n"]
            else:
                left[row["day"]] += sign * row["n"]
    if end_at <= scope.now:
        after -= (
            scope.predictions()
            .filter(PREDICTION_SENT_TO_REVIEW, created_at__gte=end_at)
            .count()
        )

    level = scope.backlog_now + after
    series = []
    for day in reversed(period.days):
        series.append(level)
        level += left[day] - joined[day]
    series.reverse()
    return {"labels": scope.labels, "backlog": series, "empty": not any(series)}


def backlog_age(scope: Scope) -> dict:
    waiting = scope.open_backlog
    counts = [waiting[key] for key, _ in AGE_BUCKETS]
    oldest = waiting["oldest"]
    return {
        "labels": [label for _, label in AGE_BUCKETS],
        "counts": counts,
        "oldest_hours": (
            rounded((scope.now - oldest).total_seconds() / 3600) if oldest else None
        ),
        "empty": not any(counts),
    }
