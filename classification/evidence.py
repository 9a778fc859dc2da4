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

import math

from django.conf import settings
from django.db.models import Count, F, Q

from catalog.selectors import category_list
from classification.models import ModelVersion, Prediction
from classification.proportions import wilson_interval
from classification.services.audit import audit_rate_for
from config.errors import InvalidInput, NotFound

__all__ = [
    "audit_precision",
    "audit_precision_by_version",
    "threshold_proposals",
    "wilson_interval",
]


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


# --- Thresholds from evidence --------------------------------------------------


def _weighted_interval(right: float, weight: float, squares: float):
    """The Wilson interval of a weighted proportion, on Kish's effective sample
    size (sum of weights squared over the sum of squared weights)."""
    if not weight:
        return None
    effective = weight * weight / squares
    return wilson_interval(effective * right / weight, effective)


def _category_proposal(
    evidence: list[tuple[float, bool, float]], *, target: float, minimum: int
) -> dict:
    """Choose the lowest confidence whose evidence at or above it reaches
    ``target`` (weighted precision), resting on at least ``minimum`` decisions.

    ``evidence`` is (confidence, right, weight) per decided prediction."""
    evidence = sorted(evidence, key=lambda row: -row[0])
    best = None
    right = weight = squares = 0.0
    n = audits = 0
    for i, (confidence, ok, w) in enumerate(evidence):
        right += w * ok
        weight += w
        squares += w * w
        n = i + 1
        audits += w != 1.0
        last_of_tie = i + 1 == len(evidence) or evidence[i + 1][0] != confidence
        if last_of_tie and n >= minimum and right / weight >= target:
            best = (confidence, right, weight, squares, n, audits)
    if best is None:
        return {"threshold": 1.0 if len(evidence) >= minimum else None}
    confidence, right, weight, squares, n, audits = best
    interval = _weighted_interval(right, weight, squares)
    return {
        # Rounded down, so the predictions it was chosen on still pass.
        "threshold": math.floor(confidence * 1e4) / 1e4,
        "precision": right / weight,
        "low": interval[0],
        "high": interval[1],
        "decisions": n,
        "audits": audits,
    }


def threshold_proposals(
    *, target_precision: float, model_version=None, min_evidence: int | None = None
) -> dict:
    """Per-category auto-accept thresholds for ``target_precision``, with their
    forecast, from the reviewed and audited predictions of ``model_version``
    (the active one by default).

    Evidence is every decided prediction of the version: a reviewer's accept
    counts right, a correction wrong. Reviewed predictions stand for
    themselves; an audit sample stands for the 1 / audit-share auto-accepted
    predictions it was drawn from (the category's share now), so evidence
    above and below today's threshold mixes as the predictions do. The
    proposal is the lowest confidence whose evidence at or above it reaches
    the target, resting on at least ``min_evidence`` decisions
    (VITRINE_THRESHOLD_MIN_EVIDENCE); with fewer decisions in all the category
    says ``enough_evidence: false`` and keeps its threshold; with enough that
    never reach the target it is 1.0 (everything to review). The forecast at
    the proposal: ``auto_accept_share`` of the version's current predictions of
    the category, expected ``precision`` and its 95 % Wilson interval
    (``low``, ``high``, on the weighted evidence's effective size),
    ``decisions`` and ``audits`` it rests on.
    """
    if not 0.5 <= target_precision < 1.0:
        raise InvalidInput(
            "target_precision must be at least 0.5 and below 1.",
            field="target_precision",
        )
    if model_version is None:
        model_version = ModelVersion.objects.filter(
            status=ModelVersion.Status.ACTIVE
        ).first()
    if model_version is None:
        raise NotFound("No model version is active; there is nothing to propose for.")
    minimum = (
        settings.VITRINE_THRESHOLD_MIN_EVIDENCE
        if min_evidence is None
        else min_evidence
    )
    categories = {
        c.slug: c for c in category_list() if c.slug in set(model_version.classes)
    }
    evidence: dict[str, list] = {slug: [] for slug in categories}
    decided = Prediction.objects.filter(
        model_version=model_version,
        category__slug__in=list(categories),
        status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED],
    ).values_list("category__slug", "confidence", "status", "audit")
    for slug, confidence, status, audit in decided:
        rate = audit_rate_for(slug) if audit else 1.0
        evidence[slug].append(
            (
                confidence,
                status == Prediction.Status.ACCEPTED,
                1.0 / rate if rate else 1.0,
            )
        )
    proposals = {
        slug: _category_proposal(rows, target=target_precision, minimum=minimum)
        for slug, rows in evidence.items()
    }
    live = Prediction.objects.filter(
        model_version=model_version, is_current=True, confidence__isnull=False
    ).exclude(status=Prediction.Status.SHADOW)
    counts = live.aggregate(
        total=Count("pk"),
        **{
            f"n_{i}": Count("pk", filter=Q(category__slug=slug))
            for i, slug in enumerate(categories)
        },
        **{
            f"at_{i}": Count(
                "pk",
                filter=Q(
                    category__slug=slug,
                    confidence__gte=_effective(proposals[slug], categories[slug]),
                ),
            )
            for i, slug in enumerate(categories)
        },
    )
    rows = []
    for i, (slug, category) in enumerate(categories.items()):
        proposal = proposals[slug]
        enough = proposal["threshold"] is not None
        predicted = counts[f"n_{i}"]
        rows.append(
            {
                "category": slug,
                "name": category.name,
                "current_threshold": category.auto_accept_threshold,
                "proposed_threshold": proposal["threshold"],
                "enough_evidence": enough,
                "reached": "precision" in proposal,
                "evidence": len(evidence[slug]),
                "predictions": predicted,
                "auto_accept_share": counts[f"at_{i}"] / predicted
                if predicted and proposal["threshold"] != 1.0
                else (0.0 if predicted else None),
                "precision": proposal.get("precision"),
                "low": proposal.get("low"),
                "high": proposal.get("high"),
                "decisions": proposal.get("decisions", 0),
                "audits": proposal.get("audits", 0),
                "note": _note(proposal, len(evidence[slug]), minimum),
            }
        )
    auto = sum(
        counts[f"at_{i}"]
        for i, slug in enumerate(categories)
        if proposals[slug]["threshold"] != 1.0
    )
    return {
        "model_version": {"id": model_version.pk, "name": model_version.name},
        "target_precision": target_precision,
        "min_evidence": minimum,
        "auto_accept_share": auto / counts["total"] if counts["total"] else None,
        "categories": rows,
    }


def _effective(proposal: dict, category) -> float:
    """The threshold the forecast counts with: the proposal, else today's."""
    threshold = proposal["threshold"]
    return category.auto_accept_threshold if threshold is None else threshold


def _note(proposal: dict, evidence: int, minimum: int) -> str:
    if proposal["threshold"] is None:
        return f"not enough evidence: {evidence} decisions, {minimum} needed"
    if "precision" not in proposal:
        return "the target is not reached at any threshold: everything to review"
    return ""
