"""The dashboard's queries for one period and merchant.

A ``Scope`` hands each chart its querysets, narrowed to the merchant (when one
is chosen) and the period, and computes once the aggregates several charts
read: activity and latency both read the predictions per day, the headline
numbers and two charts read the decisions per model version and the backlog.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.selectors import category_labels, image_queryset
from classification.selectors import (
    PREDICTION_ACCEPTED,
    PREDICTION_AUDITED,
    PREDICTION_AUTO_ACCEPTED,
    PREDICTION_CLASSIFIED,
    PREDICTION_CORRECTED,
    PREDICTION_DECIDED,
    PREDICTION_FAILED,
    PREDICTION_SENT_TO_REVIEW,
    PREDICTION_WAITING,
    prediction_decided_with_settled_category,
    prediction_queryset,
)
from dashboard.aggregates import PercentileCont
from dashboard.selectors.period import DAY, Period

if TYPE_CHECKING:
    from accounts.models import Merchant

# What the counts count: a column never null and in every index the dashboard
# reads, so PostgreSQL can answer from the index alone (COUNT(*) cannot take a
# filter in Django).
ROW = "created_at"
NO_CATEGORY = "(no category)"
AGE_BUCKETS = [
    ("under_1d", "Under 1 day"),
    ("d1_3", "1 to 3 days"),
    ("d3_7", "3 to 7 days"),
    ("over_7d", "Over 7 days"),
]


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class Scope:
    """One period and merchant (None: every merchant), as of ``now``."""

    def __init__(
        self, *, period: Period, merchant: Merchant | None, now: datetime | None
    ):
        self.period = period
        self.merchant = merchant
        self.now = now or timezone.now()
        self.labels = [d.isoformat() for d in period.days]

    # --- Scoped querysets ---------------------------------------------------

    def _bounds(self, in_period: bool) -> dict:
        if not in_period:
            return {}
        return {"start_at": self.period.start_at, "end_at": self.period.end_at}

    def images(self, *, in_period: bool = False) -> QuerySet:
        return image_queryset(merchant=self.merchant, **self._bounds(in_period))

    def predictions(self, *, in_period: bool = False) -> QuerySet:
        return prediction_queryset(merchant=self.merchant, **self._bounds(in_period))

    def decided(self) -> QuerySet:
        """Predictions of the period a reviewer decided, with ``settled``: the
        category the reviewer settled on (the prediction's own when accepted)."""
        return prediction_decided_with_settled_category(
            merchant=self.merchant, **self._bounds(True)
        )

    def by_day(self, rows, key: str = "n") -> list:
        """Lay ``{"day": date, key: value}`` rows onto the period, zero elsewhere."""
        values = {row["day"]: row[key] for row in rows}
        return [values.get(day, 0) for day in self.period.days]

    # --- Shared aggregates --------------------------------------------------

    @cached_property
    def prediction_days(self) -> dict[date, dict]:
        rows = (
            self.predictions(in_period=True)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                classified=Count(ROW, filter=PREDICTION_CLASSIFIED),
                failed=Count(ROW, filter=PREDICTION_FAILED),
                joined=Count(ROW, filter=PREDICTION_SENT_TO_REVIEW),
                p50=PercentileCont(
                    "latency_ms", fraction=0.5, filter=PREDICTION_CLASSIFIED
                ),
                p95=PercentileCont(
                    "latency_ms", fraction=0.95, filter=PREDICTION_CLASSIFIED
                ),
            )
            .order_by()
        )
        return {row["day"]: row for row in rows}

    @cached_property
    def prediction_totals(self) -> dict:
        """Period-wide classification figures."""
        return self.predictions(in_period=True).aggregate(
            classified=Count(ROW, filter=PREDICTION_CLASSIFIED),
            auto=Count(ROW, filter=PREDICTION_AUTO_ACCEPTED),
            audited=Count(ROW, filter=PREDICTION_AUDITED & PREDICTION_CLASSIFIED),
            audited_right=Count(ROW, filter=PREDICTION_AUDITED & PREDICTION_ACCEPTED),
            p95=PercentileCont(
                "latency_ms", fraction=0.95, filter=PREDICTION_CLASSIFIED
            ),
        )

    @cached_property
    def decisions_by_version(self) -> list[dict]:
        return list(
            self.predictions(in_period=True)
            # Judging a failure says nothing about the model's precision; an
            # audit sample measures the automatic decisions, not these.
            .filter(PREDICTION_CLASSIFIED, PREDICTION_DECIDED, audit=False)
            .values("model_version__name", "model_version__created_at")
            .annotate(
                accepted=Count(ROW, filter=PREDICTION_ACCEPTED),
                corrected=Count(ROW, filter=PREDICTION_CORRECTED),
            )
            .order_by("model_version__created_at", "model_version__name")
        )

    @cached_property
    def categories(self) -> dict[int | None, tuple[str, str]]:
        """Every category's slug and name by id, and the name of none."""
        return {None: ("", NO_CATEGORY), **category_labels()}

    @cached_property
    def open_backlog(self) -> dict:
        """What waits for a reviewer now, by age."""
        now = self.now
        day, three, seven = now - DAY, now - 3 * DAY, now - 7 * DAY
        return (
            self.predictions()
            .filter(PREDICTION_WAITING)
            .aggregate(
                under_1d=Count(ROW, filter=Q(created_at__gt=day)),
                d1_3=Count(ROW, filter=Q(created_at__lte=day, created_at__gt=three)),
                d3_7=Count(ROW, filter=Q(created_at__lte=three, created_at__gt=seven)),
                over_7d=Count(ROW, filter=Q(created_at__lte=seven)),
                oldest=Min("created_at"),
            )
        )

    @property
    def backlog_now(self) -> int:
        return sum(self.open_backlog[key] for key, _ in AGE_BUCKETS)
