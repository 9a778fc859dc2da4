"""The whole dashboard, or one chart of it, for a period and a merchant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from classification.selectors import pipeline_state
from dashboard.selectors import health, quality, review, volume
from dashboard.selectors.period import Period, midnight
from dashboard.selectors.scope import Scope, ratio, rounded

if TYPE_CHECKING:
    from accounts.models import Merchant

# Every chart by name, in the order of the JSON.
READERS: dict[str, Callable[[Scope], dict]] = {
    "activity": volume.activity,
    "categories": quality.categories,
    "confidence": quality.confidence,
    "backlog": review.backlog,
    "backlog_age": review.backlog_age,
    "outcomes": quality.outcomes,
    "confusion": quality.confusion,
    "latency": health.latency,
    "failures": health.failures,
    "merchants": volume.merchants,
}
CHARTS = list(READERS)


def numbers(scope: Scope) -> dict:
    """The headline numbers above the charts."""
    today = midnight(timezone.localdate(scope.now))
    totals = scope.prediction_totals
    decisions = scope.decisions_by_version
    accepted = sum(row["accepted"] for row in decisions)
    corrected = sum(row["corrected"] for row in decisions)
    return {
        "images_today": scope.images().filter(created_at__gte=today).count(),
        "backlog": scope.backlog_now,
        "auto_accept_rate": ratio(totals["auto"], totals["classified"]),
        "live_precision": ratio(accepted, accepted + corrected),
        "p95_latency_ms": rounded(totals["p95"]),
    }


def dashboard_data(
    *,
    period: Period,
    merchant: Merchant | None = None,
    now: datetime | None = None,
) -> dict:
    """Every chart and headline number of the dashboard, ready for JSON.

    ``now`` (default: the current time) dates "today" and the backlog's age.
    """
    scope = Scope(period=period, merchant=merchant, now=now)
    charts = {name: read(scope) for name, read in READERS.items()}
    return {
        "period": period.as_dict(),
        "merchant": ({"id": merchant.pk, "name": merchant.name} if merchant else None),
        "numbers": numbers(scope),
        # The pipeline now, whatever the period and merchant (as /health/ says).
        "pipeline": pipeline_state().as_dict(),
        "charts": charts,
        # The backlog's age is about now, whatever the period.
        "empty": all(
            chart["empty"] for name, chart in charts.items() if name != "backlog_age"
        ),
    }


def dashboard_chart(
    *,
    name: str,
    period: Period,
    merchant: Merchant | None = None,
    now: datetime | None = None,
) -> dict:
    """One chart's data (what its CSV export holds). Raise KeyError if unknown."""
    read = READERS[name]
    return read(Scope(period=period, merchant=merchant, now=now))
