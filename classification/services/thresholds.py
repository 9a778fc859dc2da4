"""Apply auto-accept thresholds proposed from evidence, once a person confirms.

The proposal itself is a read (``classification.evidence.threshold_proposals``);
the command, the admin and the API show it first and call this only on an
explicit apply. Every change is recorded (``catalog.ThresholdChange``).
"""

import logging

from django.db import transaction

from catalog.models import Category, ThresholdChange
from catalog.services import category_thresholds_set
from classification.evidence import threshold_proposals
from config.errors import InvalidInput

logger = logging.getLogger(__name__)


@transaction.atomic
def thresholds_apply_proposed(
    *,
    target_precision: float,
    user=None,
    reason: str = "",
    categories: list[str] | None = None,
    min_evidence: int | None = None,
) -> list[ThresholdChange]:
    """Set the proposed threshold of each category with enough evidence (only
    ``categories`` when given); return the recorded changes. A category
    without enough evidence keeps its threshold."""
    proposal = threshold_proposals(
        target_precision=target_precision, min_evidence=min_evidence
    )
    rows = {row["category"]: row for row in proposal["categories"]}
    unknown = sorted(set(categories or []) - set(rows))
    if unknown:
        raise InvalidInput(
            f"Not a category of the active version: {', '.join(unknown)}.",
            field="categories",
        )
    chosen = {
        slug: row["proposed_threshold"]
        for slug, row in rows.items()
        if row["enough_evidence"] and (categories is None or slug in categories)
    }
    why = (
        f"proposed from evidence for {target_precision:.1%} precision "
        f"({proposal['model_version']['name']})"
    )
    changes = category_thresholds_set(
        thresholds={
            category: chosen[category.slug]
            for category in Category.objects.select_for_update().filter(slug__in=chosen)
        },
        user=user,
        reason=f"{why}: {reason}" if reason else why,
    )
    logger.info("%s thresholds changed by %s (%s)", len(changes), user, why)
    return changes
