"""What a person reads before a version acts: reads, no writes.

- ``version_thresholds``: the auto-accept threshold each of a version's
  categories would have once it is active (its calibrated value when
  activation copies it, else today's), as ``model_version_activate`` sets them.
- ``shadow_comparison``: a shadow version against the version that acted, on
  the same photos.
- ``activation_comparison``: everything the activation page and the API show
  before a version becomes active, with the warnings that ask for a confirm.
"""

from collections import Counter

from django.conf import settings

from catalog.selectors import catalog_counts, category_list
from classification.models import ModelVersion, Prediction, Review

# The most recent shadow predictions a comparison reads.
SHADOW_COMPARISON_LIMIT = 5000
METRICS = [
    ("accuracy", "Accuracy"),
    ("macro_f1", "Macro-F1"),
    ("top2_accuracy", "Top-2 accuracy"),
    ("ece", "Expected calibration error"),
    ("count", "Photos measured on"),
]


def _calibrated(version: ModelVersion) -> dict[str, float]:
    per_class = (version.metrics or {}).get("thresholds", {}).get("per_class", {})
    return {
        slug: float(entry["threshold"])
        for slug, entry in per_class.items()
        if isinstance(entry, dict) and entry.get("threshold") is not None
    }


def version_thresholds(version: ModelVersion) -> dict[str, dict]:
    """``{slug: {"threshold", "source"}}`` for the version's categories that
    exist; source is "calibrated" or "current"."""
    calibrated = (
        _calibrated(version) if settings.VITRINE_APPLY_CALIBRATED_THRESHOLDS else {}
    )
    current = {c.slug: c.auto_accept_threshold for c in category_list()}
    return {
        slug: {"threshold": calibrated[slug], "source": "calibrated"}
        if slug in calibrated
        else {"threshold": current[slug], "source": "current"}
        for slug in version.classes
        if slug in current
    }


def version_review_share(version: ModelVersion) -> float | None:
    """The share of the version's evaluation photos that would go to review at
    the thresholds it would use (``version_thresholds``), or None when its
    evaluation cannot tell.

    The evaluation's own ``review_share`` counts a category without a
    calibrated threshold as reviewed, while the worker judges it by today's
    threshold: each category's precision/coverage curve gives its coverage at
    the threshold it would really have. A threshold of 1.0 auto-accepts nothing.
    """
    per_class = (version.metrics or {}).get("thresholds", {}).get("per_class", {})
    thresholds = version_thresholds(version)
    total = sum(entry.get("predicted", 0) for entry in per_class.values())
    if not per_class or not total:
        return None
    auto = 0.0
    for slug, entry in per_class.items():
        threshold = thresholds.get(slug, {}).get("threshold")
        if threshold is None or threshold >= 1.0 or not entry.get("predicted"):
            continue
        curve = entry.get("curve")
        if curve is None:
            if thresholds[slug]["source"] != "calibrated":
                return None  # stored before curves: the evaluation cannot tell
            auto += entry.get("auto_accepted", 0)
            continue
        # Curve thresholds are rounded to 4 places; the chosen ones rounded down.
        reached = [p["coverage"] for p in curve if p["threshold"] >= threshold - 1e-4]
        auto += (max(reached) if reached else 0.0) * entry["predicted"]
    return round(1 - auto / total, 4)


def would_auto_accept(confidence, threshold) -> bool:
    """The auto-accept rule of ``product_category`` on confidence alone: a threshold
    of 1.0 sends everything to review."""
    return (
        confidence is not None
        and threshold is not None
        and threshold < 1.0
        and confidence >= threshold
    )


def shadow_comparison(*, version: ModelVersion) -> dict:
    """The shadow predictions of ``version`` against the current prediction of
    the same photo by the version that acted (the most recent
    SHADOW_COMPARISON_LIMIT photos).

    ``photos`` compared; ``agreement`` (share with the same category);
    ``flips``: per category the active version said, how many photos and how
    many the candidate put elsewhere (with where to); ``auto_accept_share``:
    of the candidate's predictions, the share its thresholds would auto-accept
    (beside the active version's share on the same photos); ``reviewed``:
    photos a reviewer decided, with each version's precision against that
    decision.
    """
    shadows = list(
        Prediction.objects.filter(
            model_version=version, status=Prediction.Status.SHADOW
        )
        .order_by("-created_at", "-id")
        .values_list("image_id", "category__slug", "confidence")[
            :SHADOW_COMPARISON_LIMIT
        ]
    )
    by_image = {image_id: (slug, conf) for image_id, slug, conf in shadows}
    acted = list(
        Prediction.objects.filter(image_id__in=list(by_image), is_current=True)
        .exclude(model_version=version)
        .exclude(status=Prediction.Status.FAILED)
        .values_list("pk", "image_id", "category__slug", "status", "audit")
    )
    corrections = dict(
        Review.objects.filter(
            prediction_id__in=[
                row[0] for row in acted if row[3] == Prediction.Status.CORRECTED
            ],
            decision=Review.Decision.CORRECTED,
        )
        .order_by("prediction_id", "created_at", "id")
        .values_list("prediction_id", "final_category__slug")
    )
    thresholds = {s: t["threshold"] for s, t in version_thresholds(version).items()}
    flips: dict[str, Counter] = {}
    totals: Counter = Counter()
    agree = candidate_auto = active_auto = 0
    reviewed = candidate_right = active_right = 0
    for pk, image_id, active_slug, status, audit in acted:
        slug, confidence = by_image[image_id]
        totals[active_slug] += 1
        if slug == active_slug:
            agree += 1
        else:
            flips.setdefault(active_slug, Counter())[slug] += 1
        candidate_auto += would_auto_accept(confidence, thresholds.get(slug))
        active_auto += status == Prediction.Status.AUTO_ACCEPTED or audit
        if status == Prediction.Status.ACCEPTED:
            truth = active_slug
        elif status == Prediction.Status.CORRECTED:
            truth = corrections.get(pk)
        else:
            continue
        reviewed += 1
        candidate_right += slug == truth
        active_right += active_slug == truth
    n = len(acted)
    return {
        "photos": n,
        "agreement": agree / n if n else None,
        "flips": [
            {
                "category": slug,
                "photos": totals[slug],
                "flipped": sum(flips.get(slug, Counter()).values()),
                "to": dict(flips.get(slug, Counter()).most_common(3)),
            }
            for slug in sorted(totals, key=lambda s: (-totals[s], s or ""))
        ],
        "auto_accept_share": candidate_auto / n if n else None,
        "active_auto_accept_share": active_auto / n if n else None,
        "reviewed": reviewed,
        "precision": candidate_right / reviewed if reviewed else None,
        "active_precision": active_right / reviewed if reviewed else None,
    }


def activation_comparison(*, version: ModelVersion) -> dict:
    """What activating ``version`` would change, beside the active version.

    ``metrics``: test (else validation) figures side by side; ``cannot_predict``:
    categories products have that the version has no class for;
    ``thresholds``: per category the threshold it would use and where from;
    ``review_share``: the share of its evaluation photos that would go to
    review at those thresholds (``version_review_share``); ``shadow``:
    its shadow results, if it ran in shadow; ``warnings``: why to confirm;
    ``notes``: what else to know.
    """
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active is not None and active.pk == version.pk:
        active = None
    in_use = {
        slug: count
        for slug, count in catalog_counts(merchant=None)[
            "products_per_category"
        ].items()
        if slug
    }
    names = {c.slug: c.name for c in category_list()}
    missing = sorted(set(in_use) - set(version.classes))
    thresholds = version_thresholds(version)
    mine, theirs = version.metrics or {}, (active.metrics or {}) if active else {}
    review_share = version_review_share(version)
    shadow = shadow_comparison(version=version)
    warnings = []
    if missing:
        warnings.append(
            f"{version.name} cannot predict {len(missing)} categories products "
            f"use ({sum(in_use[s] for s in missing)} products): "
            + ", ".join(names.get(s, s) for s in missing)
            + ". Their new photos would be put in other categories or sent to "
            "review."
        )
    notes = [] if "accuracy" in mine else [f"{version.name} has no evaluation stored."]
    if (
        "accuracy" in mine
        and "accuracy" in theirs
        and mine["accuracy"] < theirs["accuracy"]
    ):
        warnings.append(
            f"{version.name} measured a lower accuracy than {active.name} "
            f"({mine['accuracy']:.1%} against {theirs['accuracy']:.1%}; on "
            "different test photos)."
        )
    if shadow["photos"] and shadow["agreement"] < 0.8:
        warnings.append(
            f"In shadow it agreed with the active version on only "
            f"{shadow['agreement']:.0%} of {shadow['photos']} photos."
        )
    return {
        "version": {"id": version.pk, "name": version.name, "status": version.status},
        "active": {"id": active.pk, "name": active.name} if active else None,
        "metrics": [
            {
                "name": label,
                "key": key,
                "candidate": mine.get(key),
                "active": theirs.get(key),
            }
            for key, label in METRICS
        ],
        "cannot_predict": [
            {"category": s, "name": names.get(s, s), "products": in_use[s]}
            for s in missing
        ],
        "thresholds": [
            {"category": slug, "name": names.get(slug, slug), **entry}
            for slug, entry in thresholds.items()
        ],
        "review_share": review_share,
        "shadow": shadow if shadow["photos"] else None,
        "warnings": warnings,
        "notes": notes,
    }
