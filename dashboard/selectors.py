"""Reads for the staff dashboard and the merchants' summary.

Every figure is aggregated by the database: grouped and filtered counts,
averages and percentiles (see ``dashboard.aggregates``). Python only lays the
aggregated rows (at most one per day, category, version or merchant) onto the
calendar and into the shape Chart.js draws.

Definitions used throughout:

- A figure about predictions counts the predictions written in the period, with
  what reviewers have decided about them so far (uploads count on their upload
  day; the backlog counts decisions on the day they were made).
- A *classification* is a prediction the model answered (it has a confidence);
  a *failure* is one it could not (no confidence), even if a reviewer later gave
  the photo a category.
- A classification was *sent to review* if it waits for a reviewer or one
  decided it (accepted or corrected); the review service also lets reviewers
  overrule an automatic acceptance, and such a rare prediction counts as sent to
  review. The *auto-accept rate* is the share of classifications still accepted
  automatically.
- *Live precision* is accepted / (accepted + corrected) over the classifications
  reviewers decided. It measures the model on the predictions it was unsure
  about, so it reads lower than offline accuracy. The category a reviewer
  settled on is the prediction's own when accepted, the review's final category
  when corrected.
- The *review backlog* on a day is the number of predictions waiting for a
  reviewer at the end of that day (now, for today). A prediction joins the
  backlog when it is written and sent to review, and leaves it at its accepting
  or correcting review (a decision is final: the review service refuses a
  second one), or, if nobody reviewed it, when a newer prediction of the same
  image replaced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import ClassVar

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Floor, Least, Substr, TruncDate
from django.utils import timezone

from accounts.models import Merchant
from catalog.models import Category, ImageStatus, ProductImage
from classification.models import Prediction, Review
from classification.selectors import model_version_active
from dashboard.aggregates import PercentileCont

DAY = timedelta(days=1)
Status = Prediction.Status
REVIEW_BOUND = [Status.NEEDS_REVIEW, Status.ACCEPTED, Status.CORRECTED]
DECISIVE = [Review.Decision.ACCEPTED, Review.Decision.CORRECTED]
DECIDED = [Status.ACCEPTED, Status.CORRECTED]
# What the counts count: a column never null and in every index the dashboard
# reads, so PostgreSQL can answer from the index alone (COUNT(*) cannot take a
# filter in Django).
ROW = "created_at"
CLASSIFIED = Q(confidence__isnull=False)
FAILED = Q(confidence__isnull=True)
SENT_TO_REVIEW = CLASSIFIED & Q(status__in=REVIEW_BOUND)
CONFIDENCE_BINS = 10
TOP_REASONS = 5
TOP_MERCHANTS = 10
REASON_LENGTH = 120
NO_CATEGORY = "(no category)"
NO_REASON = "(no reason recorded)"
OTHER_REASONS = "Other reasons"
AGE_BUCKETS = [
    ("under_1d", "Under 1 day"),
    ("d1_3", "1 to 3 days"),
    ("d3_7", "3 to 7 days"),
    ("over_7d", "Over 7 days"),
]
# How an image's status reads to someone who uploaded it.
OUTCOMES = [
    ("sorted", "Sorted automatically", [ImageStatus.CLASSIFIED]),
    ("review", "Sent to review", [ImageStatus.NEEDS_REVIEW, ImageStatus.REVIEWED]),
    ("failed", "Failed", [ImageStatus.FAILED]),
    ("in_progress", "In progress", [ImageStatus.PENDING, ImageStatus.PROCESSING]),
]
CHARTS = [
    "activity",
    "categories",
    "confidence",
    "backlog",
    "backlog_age",
    "outcomes",
    "confusion",
    "latency",
    "failures",
    "merchants",
]


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end`` (both included), in local time."""

    start: date
    end: date
    MAX_DAYS: ClassVar[int] = 366

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")
        if len(self) > self.MAX_DAYS:
            raise ValueError(f"A period is at most {self.MAX_DAYS} days.")

    @classmethod
    def last(cls, days: int, *, today: date | None = None) -> Period:
        """The ``days`` days that end today."""
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today)

    def __len__(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(len(self))]

    @property
    def start_at(self) -> datetime:
        return _midnight(self.start)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return _midnight(self.end + DAY)

    def as_dict(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": len(self),
        }


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def merchant_choices() -> QuerySet[Merchant]:
    return Merchant.objects.order_by("name", "pk")


def dashboard_data(
    *,
    period: Period,
    merchant: Merchant | None = None,
    now: datetime | None = None,
) -> dict:
    """Every chart and headline number of the dashboard, ready for JSON.

    ``now`` (default: the current time) dates "today" and the backlog's age.
    """
    board = _Dashboard(period=period, merchant=merchant, now=now)
    charts = {name: getattr(board, name)() for name in CHARTS}
    return {
        "period": period.as_dict(),
        "merchant": ({"id": merchant.pk, "name": merchant.name} if merchant else None),
        "numbers": board.numbers(),
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
    if name not in CHARTS:
        raise KeyError(name)
    board = _Dashboard(period=period, merchant=merchant, now=now)
    return getattr(board, name)()


def merchant_summary(
    *, merchant: Merchant, days: int = 30, today: date | None = None
) -> dict:
    """A merchant's own figures for their product list, in one query.

    Uploads of the last ``days`` days by day and outcome, how many of them were
    sorted automatically, and what waits for a reviewer or failed right now.
    """
    period = Period.last(days, today=today)
    rows = (
        ProductImage.objects.filter(merchant=merchant)
        # The period's photos, and the older ones still waiting or failed.
        .filter(
            Q(created_at__gte=period.start_at)
            | Q(status__in=[ImageStatus.NEEDS_REVIEW, ImageStatus.FAILED])
        )
        .annotate(
            day=Case(
                When(
                    created_at__gte=period.start_at,
                    created_at__lt=period.end_at,
                    then=TruncDate("created_at"),
                ),
                default=Value(None),
                output_field=DateField(),
            )
        )
        .values("day", "status")
        .annotate(n=Count("*"))
        .order_by()
    )
    outcome_of = {s: key for key, _, statuses in OUTCOMES for s in statuses}
    series = {key: dict.fromkeys(period.days, 0) for key, _, _ in OUTCOMES}
    waiting = failed = 0
    for row in rows:
        if row["status"] == ImageStatus.NEEDS_REVIEW:
            waiting += row["n"]
        elif row["status"] == ImageStatus.FAILED:
            failed += row["n"]
        if row["day"] is not None:
            series[outcome_of[row["status"]]][row["day"]] += row["n"]
    totals = {key: sum(days.values()) for key, days in series.items()}
    settled = totals["sorted"] + totals["review"]
    return {
        "period": period.as_dict(),
        "uploaded": sum(totals.values()),
        "sorted": totals["sorted"],
        "auto_rate": _ratio(totals["sorted"], settled),
        "waiting": waiting,
        "failed": failed,
        "chart": {
            "labels": [d.isoformat() for d in period.days],
            "datasets": [
                {"key": key, "label": label, "data": list(series[key].values())}
                for key, label, _ in OUTCOMES
            ],
            "empty": not any(totals.values()),
        },
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


class _Dashboard:
    """The dashboard's queries for one period and merchant.

    Charts that read the same aggregate (activity and latency both read the
    predictions per day) share one query through the cached properties.
    """

    def __init__(
        self, *, period: Period, merchant: Merchant | None, now: datetime | None
    ):
        self.period = period
        self.merchant = merchant
        self.now = now or timezone.now()
        self.labels = [d.isoformat() for d in period.days]

    # --- Scoped querysets ---------------------------------------------------

    def _images(self) -> QuerySet[ProductImage]:
        images = ProductImage.objects.all()
        if self.merchant is not None:
            images = images.filter(merchant=self.merchant)
        return images

    def _predictions(self) -> QuerySet[Prediction]:
        predictions = Prediction.objects.all()
        if self.merchant is not None:
            predictions = predictions.filter(image__merchant=self.merchant)
        return predictions

    def _reviews(self) -> QuerySet[Review]:
        reviews = Review.objects.all()
        if self.merchant is not None:
            reviews = reviews.filter(prediction__image__merchant=self.merchant)
        return reviews

    def _in_period(self, queryset: QuerySet, field: str = "created_at") -> QuerySet:
        return queryset.filter(
            **{
                f"{field}__gte": self.period.start_at,
                f"{field}__lt": self.period.end_at,
            }
        )

    def _by_day(self, rows, key: str = "n") -> list:
        """Lay ``{"day": date, key: value}`` rows onto the period, zero elsewhere."""
        values = {row["day"]: row[key] for row in rows}
        return [values.get(day, 0) for day in self.period.days]

    # --- Shared aggregates --------------------------------------------------

    @cached_property
    def _prediction_days(self) -> dict[date, dict]:
        rows = (
            self._in_period(self._predictions())
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(
                classified=Count(ROW, filter=CLASSIFIED),
                failed=Count(ROW, filter=FAILED),
                joined=Count(ROW, filter=SENT_TO_REVIEW),
                p50=PercentileCont("latency_ms", fraction=0.5, filter=CLASSIFIED),
                p95=PercentileCont("latency_ms", fraction=0.95, filter=CLASSIFIED),
            )
            .order_by()
        )
        return {row["day"]: row for row in rows}

    @cached_property
    def _prediction_totals(self) -> dict:
        """Period-wide classification figures."""
        return self._in_period(self._predictions()).aggregate(
            classified=Count(ROW, filter=CLASSIFIED),
            auto=Count(ROW, filter=Q(status=Status.AUTO_ACCEPTED)),
            p95=PercentileCont("latency_ms", fraction=0.95, filter=CLASSIFIED),
        )

    @cached_property
    def _decisions_by_version(self) -> list[dict]:
        return list(
            self._in_period(self._predictions())
            # Judging a failure says nothing about the model's precision.
            .filter(CLASSIFIED, status__in=DECIDED)
            .values("model_version__name", "model_version__created_at")
            .annotate(
                accepted=Count(ROW, filter=Q(status=Status.ACCEPTED)),
                corrected=Count(ROW, filter=Q(status=Status.CORRECTED)),
            )
            .order_by("model_version__created_at", "model_version__name")
        )

    @cached_property
    def _categories(self) -> dict[int | None, tuple[str, str]]:
        """Every category's slug and name by id (the taxonomy is small)."""
        names = {None: ("", NO_CATEGORY)}
        for pk, slug, name in Category.objects.values_list("pk", "slug", "name"):
            names[pk] = (slug, name)
        return names

    def _decided(self):
        """Predictions of the period a reviewer decided, with ``settled``: the
        category the reviewer settled on (the prediction's own when accepted)."""
        # A decision is final, so a prediction has at most one correction.
        correction = Review.objects.filter(
            prediction=OuterRef("pk"), decision=Review.Decision.CORRECTED
        ).order_by()
        return (
            self._in_period(self._predictions())
            .filter(status__in=DECIDED)
            .annotate(
                settled=Case(
                    When(status=Status.ACCEPTED, then=F("category_id")),
                    default=Subquery(correction.values("final_category_id")[:1]),
                    output_field=BigIntegerField(),
                )
            )
        )

    @cached_property
    def _open_backlog(self) -> dict:
        """What waits for a reviewer now, by age."""
        now = self.now
        day, three, seven = now - DAY, now - 3 * DAY, now - 7 * DAY
        return (
            self._predictions()
            .filter(status=Status.NEEDS_REVIEW, is_current=True)
            .aggregate(
                under_1d=Count(ROW, filter=Q(created_at__gt=day)),
                d1_3=Count(ROW, filter=Q(created_at__lte=day, created_at__gt=three)),
                d3_7=Count(ROW, filter=Q(created_at__lte=three, created_at__gt=seven)),
                over_7d=Count(ROW, filter=Q(created_at__lte=seven)),
                oldest=Min("created_at"),
            )
        )

    # --- Headline numbers ---------------------------------------------------

    def numbers(self) -> dict:
        today = _midnight(timezone.localdate(self.now))
        totals = self._prediction_totals
        decisions = self._decisions_by_version
        accepted = sum(row["accepted"] for row in decisions)
        corrected = sum(row["corrected"] for row in decisions)
        return {
            "images_today": self._images().filter(created_at__gte=today).count(),
            "backlog": sum(self._open_backlog[key] for key, _ in AGE_BUCKETS),
            "auto_accept_rate": _ratio(totals["auto"], totals["classified"]),
            "live_precision": _ratio(accepted, accepted + corrected),
            "p95_latency_ms": _round(totals["p95"]),
        }

    # --- Charts -------------------------------------------------------------

    def activity(self) -> dict:
        uploads = (
            self._in_period(self._images())
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("*"))
            .order_by()
        )
        days = self._prediction_days
        uploaded = self._by_day(uploads)
        classified = [
            days[d]["classified"] if d in days else 0 for d in self.period.days
        ]
        return {
            "labels": self.labels,
            "uploads": uploaded,
            "classified": classified,
            "empty": not (any(uploaded) or any(classified)),
        }

    def categories(self) -> dict:
        predicted = (
            self._in_period(self._predictions())
            .filter(CLASSIFIED)
            .values(pk=F("category_id"))
            .annotate(n=Count("*"))
            .order_by()
        )
        confirmed = (
            self._decided().values(pk=F("settled")).annotate(n=Count("*")).order_by()
        )
        counts = {}
        for kind, rows in (("predicted", predicted), ("confirmed", confirmed)):
            for row in rows:
                counts.setdefault(row["pk"], {"predicted": 0, "confirmed": 0})
                counts[row["pk"]][kind] += row["n"]
        names = self._categories
        order = sorted(
            counts,
            key=lambda pk: (
                -counts[pk]["predicted"],
                -counts[pk]["confirmed"],
                names[pk][1],
            ),
        )
        return {
            "labels": [names[pk][1] for pk in order],
            "slugs": [names[pk][0] for pk in order],
            "predicted": [counts[pk]["predicted"] for pk in order],
            "confirmed": [counts[pk]["confirmed"] for pk in order],
            "empty": not order,
        }

    def confidence(self) -> dict:
        # Tenths of confidence; 1.0 goes with 0.9 into the last bin.
        rows = (
            self._in_period(self._predictions())
            .filter(CLASSIFIED)
            .values(
                bin=Least(
                    Floor(F("confidence") * CONFIDENCE_BINS),
                    Value(CONFIDENCE_BINS - 1.0),
                ),
                auto=Case(
                    When(status=Status.AUTO_ACCEPTED, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            )
            .annotate(n=Count("*"))
            .order_by()
        )
        counts = {True: [0] * CONFIDENCE_BINS, False: [0] * CONFIDENCE_BINS}
        for row in rows:
            counts[row["auto"]][int(row["bin"])] = row["n"]
        step = 1 / CONFIDENCE_BINS
        return {
            "labels": [
                f"{i * step:.1f}–{(i + 1) * step:.1f}" for i in range(CONFIDENCE_BINS)
            ],
            "auto_accepted": counts[True],
            "sent_to_review": counts[False],
            "empty": not rows,
        }

    def backlog(self) -> dict:
        """The backlog at the end of each day of the period, counted back from now.

        What waits now is known (the review queue); going back one day adds back
        what left that day (first decisions, replacements) and takes away what
        joined it (predictions sent to review). So only the days from the
        period's start to now are read, each from an index, and no query joins
        reviews to predictions except for the few failed ones a reviewer decided.
        The running total over the days is the only arithmetic left to Python.
        """
        start_at, end_at = self.period.start_at, self.period.end_at

        def day_or_after(field):
            return Case(
                When(**{f"{field}__gte": end_at}, then=Value(None)),
                default=TruncDate(field),
                output_field=DateField(),
            )

        days = self._prediction_days
        joined = {d: days[d]["joined"] if d in days else 0 for d in self.period.days}
        left = dict.fromkeys(self.period.days, 0)
        # What left minus what joined after the period's last day.
        after = 0

        decided = self._reviews().filter(
            decision__in=DECISIVE, created_at__gte=start_at
        )
        # A decision on a failed prediction never took one off the backlog.
        failed_first = decided.filter(prediction__confidence__isnull=True)
        replaced_at = Subquery(
            Prediction.objects.filter(
                image=OuterRef("image"), created_at__gt=OuterRef("created_at")
            )
            .order_by("created_at")
            .values("created_at")[:1]
        )
        replaced = (
            self._predictions()
            .filter(status=Status.NEEDS_REVIEW, is_current=False)
            .exclude(
                Exists(
                    Review.objects.filter(
                        prediction=OuterRef("pk"), decision__in=DECISIVE
                    )
                )
            )
            .annotate(replaced_at=replaced_at)
            .filter(replaced_at__gte=start_at)
        )
        for sign, queryset, field in (
            (1, decided, "created_at"),
            (-1, failed_first, "created_at"),
            (1, replaced, "replaced_at"),
        ):
            rows = (
                queryset.values(day=day_or_after(field))
                .annotate(n=Count("*"))
                .order_by()
            )
            for row in rows:
                if row["day"] is None:
                    after += sign * row["n"]
                else:
                    left[row["day"]] += sign * row["n"]
        if end_at <= self.now:
            after -= (
                self._predictions()
                .filter(SENT_TO_REVIEW, created_at__gte=end_at)
                .count()
            )

        level = sum(self._open_backlog[key] for key, _ in AGE_BUCKETS) + after
        series = []
        for day in reversed(self.period.days):
            series.append(level)
            level += left[day] - joined[day]
        series.reverse()
        return {"labels": self.labels, "backlog": series, "empty": not any(series)}

    def backlog_age(self) -> dict:
        backlog = self._open_backlog
        counts = [backlog[key] for key, _ in AGE_BUCKETS]
        oldest = backlog["oldest"]
        return {
            "labels": [label for _, label in AGE_BUCKETS],
            "counts": counts,
            "oldest_hours": (
                _round((self.now - oldest).total_seconds() / 3600) if oldest else None
            ),
            "empty": not any(counts),
        }

    def outcomes(self) -> dict:
        rows = self._decisions_by_version
        return {
            "labels": [row["model_version__name"] for row in rows],
            "accepted": [row["accepted"] for row in rows],
            "corrected": [row["corrected"] for row in rows],
            "precision": [
                _ratio(row["accepted"], row["accepted"] + row["corrected"])
                for row in rows
            ],
            "empty": not rows,
        }

    def confusion(self) -> dict:
        """The active version's predictions against what reviewers decided."""
        version = model_version_active()
        rows = []
        if version is not None:
            rows = list(
                self._decided()
                .filter(CLASSIFIED, model_version=version)
                .values(predicted=F("category_id"), actual=F("settled"))
                .annotate(n=Count("*"))
                .order_by()
            )
        names = self._categories
        used = {row[key] for row in rows for key in ("predicted", "actual")}
        order = sorted(used, key=lambda pk: names[pk][1])
        index = {pk: i for i, pk in enumerate(order)}
        return {
            "model_version": version.name if version else None,
            "labels": [names[pk][1] for pk in order],
            "slugs": [names[pk][0] for pk in order],
            "cells": sorted(
                (
                    {
                        "actual": index[row["actual"]],
                        "predicted": index[row["predicted"]],
                        "count": row["n"],
                    }
                    for row in rows
                ),
                key=lambda cell: (cell["actual"], cell["predicted"]),
            ),
            "total": sum(row["n"] for row in rows),
            "empty": not rows,
        }

    def latency(self) -> dict:
        days = self._prediction_days

        def series(key):
            return [
                _round(days[d][key]) if d in days else None for d in self.period.days
            ]

        p50, p95 = series("p50"), series("p95")
        return {
            "labels": self.labels,
            "p50": p50,
            "p95": p95,
            "empty": all(v is None for v in p95),
        }

    def failures(self) -> dict:
        failed = self._in_period(self._predictions()).filter(FAILED)
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
            days = series.setdefault(row["bucket"], dict.fromkeys(self.period.days, 0))
            days[row["day"]] += row["n"]
        order = [r for r in [*top, OTHER_REASONS] if r in series]
        return {
            "labels": self.labels,
            "datasets": [{"label": r, "data": list(series[r].values())} for r in order],
            "total": sum(sum(days.values()) for days in series.values()),
            "empty": not series,
        }

    def merchants(self) -> dict:
        rows = list(
            self._in_period(self._images())
            .values("merchant_id")
            .annotate(
                total=Count("*"),
                **{
                    key: Count(ROW, filter=Q(status__in=statuses))
                    for key, _, statuses in OUTCOMES
                },
            )
            .order_by("-total", "merchant_id")[:TOP_MERCHANTS]
        )
        # Names only for the few on the chart, not joined to every photo.
        names = dict(
            Merchant.objects.filter(
                pk__in=[row["merchant_id"] for row in rows]
            ).values_list("pk", "name")
        )
        return {
            "labels": [names[row["merchant_id"]] for row in rows],
            "totals": [row["total"] for row in rows],
            "datasets": [
                {"key": key, "label": label, "data": [row[key] for row in rows]}
                for key, label, _ in OUTCOMES
            ],
            "empty": not rows,
        }
