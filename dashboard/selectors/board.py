"""The whole dashboard, or one chart of it, for a period and a merchant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from classification.selectors import pipeline_state, wilson_interval
from dashboard.selectors import health, quality, review, volume
from dashboard.selectors.period import DAY, Period, midnight
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
    return {
        "images_today": scope.images().filter(created_at__gte=today).count(),
        "backlog": scope.backlog_now,
        **_period_numbers(scope),
    }


def _period_numbers(scope: Scope) -> dict:
    """The headline numbers that are about the period's predictions."""
    totals = scope.prediction_totals
    decisions = scope.decisions_by_version
    accepted = sum(row["accepted"] for row in decisions)
    corrected = sum(row["corrected"] for row in decisions)
    interval = wilson_interval(totals["audited_right"], totals["audited"])
    return {
        "auto_accept_rate": ratio(totals["auto"], totals["classified"]),
        # Of the doubtful predictions reviewers decided, the share accepted.
        "live_precision": ratio(accepted, accepted + corrected),
        # Of the automatic decisions, estimated from the audit samples alone.
        "audit_precision": ratio(totals["audited_right"], totals["audited"]),
        "audit_interval": [rounded(bound, 4) for bound in interval]
        if interval
        else None,
        "audited": totals["audited"],
        "p95_latency_ms": rounded(totals["p95"]),
    }


def changes(scope: Scope, current: dict, backlog_chart: dict) -> dict:
    """Each headline number against the one before it: photos today against
    yesterday, the backlog now against the end of the period's first day, and
    the rates and p95 against the previous period of the same length.

    Each: ``previous`` (None when there is nothing to compare with), ``delta``
    (rates in percentage points) and ``against``, the words for what it is
    compared with.
    """
    today = midnight(timezone.localdate(scope.now))
    yesterday = scope.images().filter(created_at__gte=today - DAY, created_at__lt=today)
    before = Scope(
        period=scope.period.previous(),
        merchant=scope.merchant,
        now=scope.period.start_at,
    )
    earlier = _period_numbers(before)
    backlog_days = backlog_chart["backlog"] or [None]
    previous = {
        "images_today": (yesterday.count(), "yesterday"),
        "backlog": (backlog_days[0], f"the end of {scope.period.start:%-d %b}"),
    }
    against = f"the {len(scope.period)} days before"
    for key in ("auto_accept_rate", "live_precision", "p95_latency_ms"):
        previous[key] = (earlier[key], against)
    result = {}
    for key, (value, words) in previous.items():
        now_value = current[key]
        delta = None
        if value is not None and now_value is not None:
            delta = now_value - value
            if key in ("auto_accept_rate", "live_precision"):
                delta = round(100 * delta, 1)  # percentage points
            elif isinstance(delta, float):
                delta = round(delta, 1)
        result[key] = {"previous": value, "delta": delta, "against": words}
    return result


UNITS = {"auto_accept_rate": " pts", "live_precision": " pts", "p95_latency_ms": " ms"}


def change_text(key: str, change: dict) -> str:
    """A change in words: "+3 vs yesterday", or a minus sign and 1.5 pts."""
    delta = change["delta"]
    if delta is None:
        return f"no data in {change['against']}"
    if delta == 0:
        return f"the same as {change['against']}"
    sign = "+" if delta > 0 else "−"
    amount = f"{abs(delta):,.1f}" if isinstance(delta, float) else f"{abs(delta):,}"
    if key == "p95_latency_ms":
        amount = f"{abs(delta):,.0f}"
    return f"{sign}{amount}{UNITS.get(key, '')} vs {change['against']}"


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
    headline = numbers(scope)
    return {
        "period": period.as_dict(),
        "merchant": ({"id": merchant.pk, "name": merchant.name} if merchant else None),
        "numbers": headline,
        "changes": {
            key: {**change, "text": change_text(key, change)}
            for key, change in changes(scope, headline, charts["backlog"]).items()
        },
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
