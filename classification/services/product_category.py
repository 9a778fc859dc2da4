"""A product's category from all of its photos, and which photos need a person.

The rule (the README's "Decide" states it too):

- Every usable photo of the product with a current prediction votes: a photo a
  reviewer labelled votes for its label with weight 1; any other classified
  photo votes for its top category with its confidence as weight. Failed and
  unusable photos do not vote.
- The category with the most weight wins when it leads the runner-up by at
  least ``VITRINE_CATEGORY_VOTE_MARGIN`` and at least one of its votes is sure
  (a reviewer's label, or a confidence at or above the category's auto-accept
  threshold). Otherwise the product keeps the category it has.
- Only a category nobody chose, or one the model chose, follows the vote. A
  category the merchant or a reviewer chose stays until a person changes it.

Then each undecided photo (auto-accepted or waiting) is sent to review, with its
reason, or lets the product's category stand:

- against a category the merchant chose: "disagreement";
- against the product's category otherwise, or (with no category) against
  another photo's vote: "outlier", not like the product's other photos;
- below its category's threshold (a threshold of 1.0 accepts nothing), or with
  no known category: "low_confidence";
- else it is accepted automatically, unless the audit draw picks it
  (``services/audit.py``): then it acts as accepted (it votes as any other
  photo) and waits for review as an "audit" sample, whatever comes later.

products_decide does this for many products in a fixed number of queries, and
products_state / products_state_restore read and put back what a decision changes
(for undo).
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import CategorySource, ImageStatus, Product, ProductImage
from classification.models import Prediction, Review, ReviewReason
from classification.services.audit import prediction_drawn_for_audit

logger = logging.getLogger(__name__)

UNDECIDED = [Prediction.Status.AUTO_ACCEPTED, Prediction.Status.NEEDS_REVIEW]
LABELLED = [Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED]
# Sources a vote may replace: nobody chose the category, or the model did.
FOLLOWS_VOTE = ("", CategorySource.MODEL)


@dataclass(frozen=True)
class Vote:
    category_id: int
    weight: float
    sure: bool
    by_reviewer: bool


def category_vote(votes: Iterable[Vote], *, margin: float) -> int | None:
    """The category the votes decide, or None when none clearly wins."""
    weights: dict[int, float] = defaultdict(float)
    sure: set[int] = set()
    for vote in votes:
        weights[vote.category_id] += vote.weight
        if vote.sure:
            sure.add(vote.category_id)
    if not weights:
        return None
    ranked = sorted(weights.items(), key=lambda item: item[1], reverse=True)
    winner, weight = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if winner not in sure or weight - runner_up < margin:
        return None
    return winner


@dataclass(frozen=True)
class Decided:
    # Product id -> (category id before, after), for the categories that changed.
    categories: dict[int, tuple[int | None, int | None]]
    # How many photos went to review or left it.
    moved: int


@transaction.atomic
def products_decide(
    *, product_ids: Iterable[int], source: CategorySource = CategorySource.MODEL
) -> Decided:
    """Decide each product's category from its photos and send the photos that
    need a person to review (see the module's rule); lock the rows it reads.

    ``source`` is recorded when the vote changes a category (a reviewer's
    decision passes REVIEWER). Six queries at most, whatever the number of
    products.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return Decided({}, 0)
    products = {
        p.pk: p
        for p in Product.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .only("category", "category_source")
    }
    predictions = list(
        Prediction.objects.select_for_update(of=("self",))
        .select_related("category", "image")
        .only(
            "status",
            "review_reason",
            "confidence",
            "category__auto_accept_threshold",
            "category__slug",
            "model_version_id",
            "audit",
            "image__product",
            "image__status",
        )
        .filter(image__product_id__in=ids, is_current=True)
        .exclude(image__status=ImageStatus.UNUSABLE)
    )
    labels = _reviewer_labels([p for p in predictions if p.status in LABELLED])
    by_product: dict[int, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_product[prediction.image.product_id].append(prediction)

    margin = settings.VITRINE_CATEGORY_VOTE_MARGIN
    changed, moved = {}, []
    for product_id, product in products.items():
        photos = by_product.get(product_id, [])
        votes = [v for v in (_vote(p, labels) for p in photos) if v is not None]
        winner = category_vote(votes, margin=margin)
        if (
            winner is not None
            and winner != product.category_id
            and product.category_source in FOLLOWS_VOTE
        ):
            changed[product_id] = (product.category_id, winner)
            product.category_id = winner
            product.category_source = (
                CategorySource.REVIEWER
                if any(v.by_reviewer and v.category_id == winner for v in votes)
                else source
            )
        for prediction in photos:
            if prediction.status not in UNDECIDED:
                continue
            status, reason = _assess(prediction, product, votes)
            if status == Prediction.Status.AUTO_ACCEPTED and _drawn_for_audit(
                prediction
            ):
                # It acts as an automatic decision and waits for its check.
                prediction.audit = True
                status, reason = Prediction.Status.NEEDS_REVIEW, ReviewReason.AUDIT
            if (status, reason) != (prediction.status, prediction.review_reason):
                prediction.status, prediction.review_reason = status, reason
                moved.append(prediction)

    now = timezone.now()
    if changed:
        Product.objects.bulk_update(
            [
                Product(
                    pk=pk,
                    category_id=products[pk].category_id,
                    category_source=products[pk].category_source,
                    updated_at=now,
                )
                for pk in changed
            ],
            ["category", "category_source", "updated_at"],
        )
    if moved:
        Prediction.objects.bulk_update(moved, ["status", "review_reason", "audit"])
        for status, image_status in (
            (Prediction.Status.AUTO_ACCEPTED, ImageStatus.CLASSIFIED),
            (Prediction.Status.NEEDS_REVIEW, ImageStatus.NEEDS_REVIEW),
        ):
            image_ids = [p.image_id for p in moved if p.status == status]
            if image_ids:
                ProductImage.objects.filter(pk__in=image_ids).update(
                    status=image_status, status_changed_at=now
                )
    if changed or moved:
        logger.info(
            "products %s decided: %s categories changed, %s photos moved",
            ids[:10],
            len(changed),
            len(moved),
        )
    return Decided(changed, len(moved))


def _reviewer_labels(decided: list[Prediction]) -> dict[int, int]:
    """Prediction id -> the category a reviewer's standing decision gave it."""
    if not decided:
        return {}
    labels = {p.pk: p.category_id for p in decided if p.category_id is not None}
    rows = (
        Review.objects.filter(
            prediction__in=[p.pk for p in decided],
            decision__in=[Review.Decision.ACCEPTED, Review.Decision.CORRECTED],
            final_category__isnull=False,
        )
        .order_by("created_at", "id")
        .values_list("prediction_id", "final_category_id")
    )
    labels.update(dict(rows))
    return labels


def _vote(prediction: Prediction, labels: dict[int, int]) -> Vote | None:
    if prediction.status in LABELLED:
        label = labels.get(prediction.pk)
        if label is None:
            return None
        return Vote(label, 1.0, sure=True, by_reviewer=True)
    if prediction.category is None or prediction.confidence is None:
        return None
    return Vote(
        prediction.category_id,
        prediction.confidence,
        sure=_sure(prediction),
        by_reviewer=False,
    )


def _sure(prediction: Prediction) -> bool:
    # A threshold of 1.0 sends everything to review: a saturated softmax
    # reaches 1.0, which is not "never", as the evaluation that chose it counted.
    threshold = prediction.category.auto_accept_threshold
    return threshold < 1.0 and prediction.confidence >= threshold


def _drawn_for_audit(prediction: Prediction) -> bool:
    return prediction_drawn_for_audit(
        image_id=prediction.image_id,
        model_version_id=prediction.model_version_id,
        category_slug=prediction.category.slug,
    )


def _assess(
    prediction: Prediction, product: Product, votes: list[Vote]
) -> tuple[str, str]:
    waits = Prediction.Status.NEEDS_REVIEW
    if prediction.audit:
        # An audit sample waits for its check whatever the product's category.
        return waits, ReviewReason.AUDIT
    category_id = prediction.category_id
    if product.category_id is not None and category_id != product.category_id:
        if product.category_source == CategorySource.MERCHANT:
            return waits, ReviewReason.DISAGREEMENT
        return waits, ReviewReason.OUTLIER
    if product.category_id is None and any(v.category_id != category_id for v in votes):
        return waits, ReviewReason.OUTLIER
    if (
        prediction.category is None
        or prediction.confidence is None
        or not _sure(prediction)
    ):
        return waits, ReviewReason.LOW_CONFIDENCE
    return Prediction.Status.AUTO_ACCEPTED, ""


# --- What a decision changes, to undo it -------------------------------------


def products_state(*, product_ids: Iterable[int]) -> dict[int, dict]:
    """Product id -> what reviews and votes change on it: its category and
    source, its photos' statuses, their current predictions' statuses and
    reasons (JSON-ready; three queries)."""
    ids = sorted(set(product_ids))
    state = {
        pk: {"category": category, "source": source, "images": {}, "predictions": {}}
        for pk, category, source in Product.objects.filter(pk__in=ids).values_list(
            "pk", "category_id", "category_source"
        )
    }
    for pk, product_id, status in ProductImage.objects.filter(
        product_id__in=ids
    ).values_list("pk", "product_id", "status"):
        state[product_id]["images"][str(pk)] = status
    for pk, product_id, status, reason in Prediction.objects.filter(
        image__product_id__in=ids, is_current=True
    ).values_list("pk", "image__product_id", "status", "review_reason"):
        state[product_id]["predictions"][str(pk)] = [status, reason]
    return state


def products_state_restore(*, states: dict[int, dict]) -> None:
    """Put products back as ``states`` (from products_state) describe them."""
    now = timezone.now()
    Product.objects.bulk_update(
        [
            Product(
                pk=pk,
                category_id=s["category"],
                category_source=s["source"],
                updated_at=now,
            )
            for pk, s in states.items()
        ],
        ["category", "category_source", "updated_at"],
    )
    by_image_status: dict[str, list[int]] = defaultdict(list)
    for s in states.values():
        for pk, status in s["images"].items():
            by_image_status[status].append(int(pk))
    for status, pks in by_image_status.items():
        ProductImage.objects.filter(pk__in=pks).exclude(status=status).update(
            status=status, status_changed_at=now
        )
    by_prediction: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in states.values():
        for pk, (status, reason) in s["predictions"].items():
            by_prediction[(status, reason)].append(int(pk))
    for (status, reason), pks in by_prediction.items():
        Prediction.objects.filter(pk__in=pks).exclude(
            Q(status=status) & Q(review_reason=reason)
        ).update(status=status, review_reason=reason)
