"""What reviewers' decisions tell about the model: reads, no writes.

- ``wilson_interval`` (from ``proportions``): the 95 % Wilson score interval.
- ``audit_precision``: the precision of automatic decisions, per model version
  and category, estimated from the audit samples alone (see
  ``services.audit``): of the audited predictions a reviewer decided, the share
  accepted as they were. A skipped or waiting audit item does not count.
- ``threshold_proposals``: per-category auto-accept thresholds for a target
  precision, forecast from reviewed and audited predictions
  (``classification.thresholds``).
"""

from django.db.models import Count, F, Q

from classification.models import Prediction
from classification.proportions import wilson_interval

__all__ = ["audit_precision", "audit_precision_by_version", "wilson_interval"]


def _estimate(correct: int, audited: int) -> dict:
    interval = wilson_interval(correct, audited)
    return {
        "audited": audited,
        "correct": correct,
        "precision": correct / audited if audited else None,
        "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }


def audit_precision(*, model_version=None, merchant=None) -> list[dict]:
    """Per model version and predicted category, from the decided audit samples:
    ``model_version_id``, ``model_version_name``, ``category_id``,
    ``category_slug``, ``category_name``, ``audited``, ``correct``,
    ``precision`` and its Wilson interval ``low``..``high`` (None when none was
    audited). One aggregate query."""
    audited = Prediction.objects.filter(
        audit=True,
        category__isnull=False,
        status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED],
    )
    if model_version is not None:
        audited = audited.filter(model_version=model_version)
    if merchant is not None:
        audited = audited.filter(image__merchant=merchant)
    rows = (
        audited.order_by()
        .values(
            "model_version_id",
            "category_id",
            model_version_name=F("model_version__name"),
            category_slug=F("category__slug"),
            category_name=F("category__name"),
        )
        .annotate(
            n=Count("pk"),
            right=Count("pk", filter=Q(status=Prediction.Status.ACCEPTED)),
        )
        .order_by("model_version_id", "category_name", "category_id")
    )
    return [
        {
            "model_version_id": row["model_version_id"],
            "model_version_name": row["model_version_name"],
            "category_id": row["category_id"],
            "category_slug": row["category_slug"],
            "category_name": row["category_name"],
            **_estimate(row["right"], row["n"]),
        }
        for row in rows
    ]


def audit_precision_by_version(*, merchant=None) -> dict[int, dict]:
    """``{model version id: {audited, correct, precision, low, high,
    per_category: [rows of audit_precision]}}`` for versions with decided
    audit samples."""
    versions: dict[int, dict] = {}
    for row in audit_precision(merchant=merchant):
        versions.setdefault(row["model_version_id"], []).append(row)
    return {
        version_id: {
            **_estimate(
                sum(r["correct"] for r in rows), sum(r["audited"] for r in rows)
            ),
            "per_category": rows,
        }
        for version_id, rows in versions.items()
    }
