"""How good the model is: what it predicts, how sure it is, and what reviewers
made of its predictions (per version, and the active version's confusion)."""

from django.db.models import BooleanField, Case, Count, F, Value, When
from django.db.models.functions import Floor, Least

from classification.selectors import (
    PREDICTION_AUTO_ACCEPTED,
    PREDICTION_CLASSIFIED,
    model_version_active,
)
from dashboard.selectors.scope import Scope, ratio

CONFIDENCE_BINS = 10


def categories(scope: Scope) -> dict:
    predicted = (
        scope.predictions(in_period=True)
        .filter(PREDICTION_CLASSIFIED)
        .values(pk=F("category_id"))
        .annotate(n=Count("*"))
        .order_by()
    )
    confirmed = (
        scope.decided().values(pk=F("settled")).annotate(n=Count("*")).order_by()
    )
    counts = {}
    for kind, rows in (("predicted", predicted), ("confirmed", confirmed)):
        for row in rows:
            counts.setdefault(row["pk"], {"predicted": 0, "confirmed": 0})
            counts[row["pk"]][kind] += row["n"]
    names = scope.categories
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


def confidence(scope: Scope) -> dict:
    # Tenths of confidence; 1.0 goes with 0.9 into the last bin.
    rows = (
        scope.predictions(in_period=True)
        .filter(PREDICTION_CLASSIFIED)
        .values(
            bin=Least(
                Floor(F("confidence") * CONFIDENCE_BINS),
                Value(CONFIDENCE_BINS - 1.0),
            ),
            auto=Case(
                When(PREDICTION_AUTO_ACCEPTED, then=Value(True)),
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


def outcomes(scope: Scope) -> dict:
    rows = scope.decisions_by_version
    return {
        "labels": [row["model_version__name"] for row in rows],
        "accepted": [row["accepted"] for row in rows],
        "corrected": [row["corrected"] for row in rows],
        "precision": [
            ratio(row["accepted"], row["accepted"] + row["corrected"]) for row in rows
        ],
        "empty": not rows,
    }


def confusion(scope: Scope) -> dict:
    """The active version's predictions against what reviewers decided."""
    version = model_version_active()
    rows = []
    if version is not None:
        rows = list(
            scope.decided()
            .filter(PREDICTION_CLASSIFIED, model_version=version)
            .values(predicted=F("category_id"), actual=F("settled"))
            .annotate(n=Count("*"))
            .order_by()
        )
    names = scope.categories
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
