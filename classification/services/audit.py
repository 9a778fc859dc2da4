"""The audit draw: which auto-accepted predictions a reviewer checks anyway.

Reviewers see only doubtful predictions, so their decisions say little about the
ones the model accepted by itself. A random share of those (VITRINE_AUDIT_RATE,
or the category's own in VITRINE_AUDIT_RATE_PER_CATEGORY) still sets the
product's category and also joins the review queue marked ``audit``; the
reviewers' decisions on these alone estimate the precision of automatic
decisions (``classification.evidence.audit_precision``).

The draw is a keyed hash of the prediction's identity (image and model version,
unique together), not a random generator: the same prediction is always drawn or
not, whichever worker stores it and however often, and a test can draw many.
"""

from django.conf import settings
from django.utils.crypto import salted_hmac

_PURPOSE = "vitrine.classification.audit"
_SCALE = float(1 << 52)


def audit_rate_for(category_slug: str) -> float:
    """The share of the category's auto-accepted predictions to audit."""
    rates = settings.VITRINE_AUDIT_RATE_PER_CATEGORY or {}
    rate = rates.get(category_slug, settings.VITRINE_AUDIT_RATE)
    return min(max(float(rate), 0.0), 1.0)


def audit_draw(*, image_id: int, model_version_id: int) -> float:
    """A number in [0, 1), uniform over predictions and fixed for each one."""
    digest = salted_hmac(
        _PURPOSE, f"{image_id}:{model_version_id}", algorithm="sha256"
    ).hexdigest()
    return int(digest[:13], 16) / _SCALE


def prediction_drawn_for_audit(
    *, image_id: int, model_version_id: int, category_slug: str
) -> bool:
    """Tell whether this auto-accepted prediction goes to the queue as an audit."""
    rate = audit_rate_for(category_slug)
    return (
        rate > 0
        and audit_draw(image_id=image_id, model_version_id=model_version_id) < rate
    )
