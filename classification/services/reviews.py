"""Writes for reviews: a reviewer's decision on a prediction, one or many at once.

A decision (accepted or corrected) is final for that prediction: it sets the
prediction's status, marks the image reviewed and gives the product its category
with the reviewer as its source; the Review row records who, when, what and the
category the product had before. Skipping records only that this reviewer passed.

Two reviewers on the same item: the prediction row is locked (``select_for_update``)
and its state checked, so the second one gets ReviewConflict instead of
overwriting the first decision.

When a merchant changes a product's category, product_predictions_reassess sends
an auto-accepted prediction that now disagrees back to the queue (and lets one
that now agrees leave it).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.timesince import timesince

from accounts.models import User
from catalog.models import Category, CategorySource, ImageStatus, Product
from catalog.services import (
    image_set_status,
    images_set_status,
    product_set_category,
    products_set_categories,
)
from classification import signals
from classification.models import Prediction, Review
from classification.services.predictions import prediction_auto_accepts
from config.errors import Conflict, InvalidInput

logger = logging.getLogger(__name__)

Decision = Review.Decision
# A decision on these is final; a new prediction (re-classification) starts over.
DECIDED = {Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED}
# Auto-accepted predictions are reviewable too: a person may always confirm or
# overrule the machine (the queue shows those that disagree with the merchant).
REVIEWABLE = {
    Prediction.Status.NEEDS_REVIEW,
    Prediction.Status.FAILED,
    Prediction.Status.AUTO_ACCEPTED,
}
STATUS_FOR = {
    Decision.ACCEPTED: Prediction.Status.ACCEPTED,
    Decision.CORRECTED: Prediction.Status.CORRECTED,
}


class ReviewError(InvalidInput):
    """The review asked for cannot be made (bad input or a prediction not in review)."""

    field = "decision"


class ReviewConflict(Conflict):
    """Someone else decided this prediction first, or it was classified again."""


@dataclass(frozen=True)
class BulkReviewResult:
    reviewed: int
    # Ids left as they were: decided already, classified again since, gone, or
    # (for a bulk accept) without a category to accept.
    conflicts: list[int] = field(default_factory=list)


def prediction_review(
    *,
    prediction_id: int,
    reviewer: User,
    decision: str,
    category: Category | None = None,
    note: str = "",
) -> Review:
    """Record ``reviewer``'s decision on one prediction and apply it.

    ``decision`` is a Review.Decision value: "accepted" takes the prediction's top
    category; "corrected" needs ``category`` (choosing the top category counts as
    accepted); "skipped" changes nothing but takes the item out of this
    reviewer's next-item flow. Raise ReviewError for bad input and ReviewConflict
    when another decision was made first. Sending the same decision again (a
    double click) returns the first review.
    """
    decision = _clean_decision(decision, category)
    with transaction.atomic():
        prediction = (
            Prediction.objects.select_for_update(of=("self",))
            .select_related("image__product", "category")
            .filter(pk=prediction_id)
            .first()
        )
        if prediction is None:
            raise ReviewError(f"There is no prediction {prediction_id}.")
        if prediction.status in DECIDED:
            return _repeated_or_conflict(prediction, reviewer, decision, category)
        if not prediction.is_current:
            raise ReviewConflict(
                "This photo was classified again since this prediction; "
                "review its newer prediction instead."
            )
        if prediction.status not in REVIEWABLE:
            raise ReviewError(
                f"This prediction is not in review ({prediction.status})."
            )
        final = _final_category_id(prediction, decision, category)
        if decision == Decision.CORRECTED and final == prediction.category_id:
            decision = Decision.ACCEPTED
        product = prediction.image.product
        review = Review.objects.create(
            prediction=prediction,
            reviewer=reviewer,
            decision=decision,
            final_category_id=final,
            previous_category_id=product.category_id,
            note=note,
        )
        if decision != Decision.SKIPPED:
            Prediction.objects.filter(pk=prediction.pk).update(
                status=STATUS_FOR[decision]
            )
            prediction.status = STATUS_FOR[decision]
            image_set_status(image=prediction.image, status=ImageStatus.REVIEWED)
            product_set_category(
                product=product,
                category=category or prediction.category,
                source=CategorySource.REVIEWER,
            )
            signals.images_reviewed.send(sender=Prediction, reviews=[review])
    logger.info(
        "prediction %s %s by %s (category %s)",
        prediction.pk,
        decision,
        reviewer.pk,
        final,
    )
    return review


def predictions_review_bulk(
    *,
    prediction_ids: Iterable[int],
    reviewer: User,
    decision: str,
    category: Category | None = None,
) -> BulkReviewResult:
    """Apply one decision to many predictions in a fixed number of queries.

    "accepted" gives each product its own prediction's top category; "corrected"
    gives every product ``category``; "skipped" records a skip for each. The ids
    that could not be reviewed are returned in ``conflicts``; the others are
    reviewed all together or not at all.
    """
    decision = _clean_decision(decision, category)
    ids = list(dict.fromkeys(int(pk) for pk in prediction_ids))
    if not ids:
        return BulkReviewResult(reviewed=0, conflicts=[])
    with transaction.atomic():
        predictions = {
            p.pk: p
            for p in Prediction.objects.select_for_update(of=("self",))
            .select_related("image__product")
            .only(
                "status",
                "is_current",
                "category",
                "image",
                "image__product",
                "image__product__category",
            )
            .filter(pk__in=ids)
        }
        reviews, conflicts = [], []
        for pk in ids:
            prediction = predictions.get(pk)
            if (
                prediction is None
                or not prediction.is_current
                or prediction.status not in REVIEWABLE
                or (decision == Decision.ACCEPTED and prediction.category_id is None)
            ):
                conflicts.append(pk)
                continue
            try:
                final = _final_category_id(prediction, decision, category)
            except ReviewError:  # e.g. "accept" with another category: not this one
                conflicts.append(pk)
                continue
            reviews.append(
                Review(
                    prediction=prediction,
                    reviewer=reviewer,
                    decision=Decision.ACCEPTED
                    if decision == Decision.CORRECTED
                    and final == prediction.category_id
                    else decision,
                    final_category_id=final,
                    previous_category_id=prediction.image.product.category_id,
                )
            )
        if reviews:
            Review.objects.bulk_create(reviews)
        if reviews and decision != Decision.SKIPPED:
            _apply_decisions(reviews)
            signals.images_reviewed.send(sender=Prediction, reviews=reviews)
    logger.info(
        "bulk %s by %s: %s reviewed, %s left",
        decision,
        reviewer.pk,
        len(reviews),
        len(conflicts),
    )
    return BulkReviewResult(reviewed=len(reviews), conflicts=conflicts)


def product_predictions_reassess(*, product: Product) -> int:
    """Decide again whether the product's undecided predictions need a person.

    Called when the merchant changes the product's category: the rule that
    classification applied (auto-accept a confident prediction unless it
    disagrees with the merchant's category) is applied again, so a prediction
    that now disagrees goes to the review queue and one that now agrees leaves
    it. Decided and failed predictions stay as they are, and so do audit samples
    (they wait for their check whatever the merchant chose). Return how many
    changed.
    """
    undecided = list(
        Prediction.objects.select_for_update(of=("self",))
        .select_related("category")
        .filter(
            image__product=product,
            is_current=True,
            audit=False,
            status__in=[
                Prediction.Status.AUTO_ACCEPTED,
                Prediction.Status.NEEDS_REVIEW,
            ],
        )
    )
    moves = {Prediction.Status.AUTO_ACCEPTED: [], Prediction.Status.NEEDS_REVIEW: []}
    for prediction in undecided:
        status = (
            Prediction.Status.AUTO_ACCEPTED
            if prediction_auto_accepts(
                category=prediction.category,
                confidence=prediction.confidence,
                product=product,
            )
            else Prediction.Status.NEEDS_REVIEW
        )
        if status != prediction.status:
            moves[status].append(prediction)
    for status, predictions in moves.items():
        if not predictions:
            continue
        Prediction.objects.filter(pk__in=[p.pk for p in predictions]).update(
            status=status
        )
        images_set_status(
            image_ids=[p.image_id for p in predictions],
            status=ImageStatus.CLASSIFIED
            if status == Prediction.Status.AUTO_ACCEPTED
            else ImageStatus.NEEDS_REVIEW,
        )
    changed = sum(len(predictions) for predictions in moves.values())
    if changed:
        logger.info("product %s: %s predictions reassessed", product.pk, changed)
    return changed


def _apply_decisions(reviews: list[Review]) -> None:
    # At most two updates of predictions (accepted, corrected), one of images and
    # one of products, whatever the number of reviews.
    for decision, status in STATUS_FOR.items():
        pks = [r.prediction_id for r in reviews if r.decision == decision]
        if pks:
            Prediction.objects.filter(pk__in=pks).update(status=status)
    images_set_status(
        image_ids=[r.prediction.image_id for r in reviews],
        status=ImageStatus.REVIEWED,
    )
    # Two photos of one product in the batch: the later one in the list wins.
    products_set_categories(
        categories={
            r.prediction.image.product_id: r.final_category_id for r in reviews
        },
        source=CategorySource.REVIEWER,
    )


def _clean_decision(decision: str, category: Category | None) -> str:
    if decision not in Decision.values:
        raise ReviewError(
            f"Unknown decision {decision!r}; use one of {', '.join(Decision.values)}."
        )
    if decision == Decision.CORRECTED and category is None:
        raise ReviewError("Choose the right category to correct the prediction.")
    if decision == Decision.SKIPPED and category is not None:
        raise ReviewError("A skip takes no category.")
    if category is not None and category.pk is None:
        raise ReviewError("The category must be a saved category.")
    return decision


def _final_category_id(
    prediction: Prediction, decision: str, category: Category | None
) -> int | None:
    if decision == Decision.SKIPPED:
        return None
    if decision == Decision.CORRECTED:
        return category.pk
    if prediction.category_id is None:
        raise ReviewError(
            "This prediction has no category to accept; choose the right one."
        )
    if category is not None and category.pk != prediction.category_id:
        raise ReviewError(
            "Accepting takes the predicted category; correct the prediction to "
            "choose another one."
        )
    return prediction.category_id


def _repeated_or_conflict(
    prediction: Prediction, reviewer: User, decision: str, category: Category | None
) -> Review:
    first = (
        Review.objects.select_related("reviewer", "final_category")
        .filter(
            prediction=prediction,
            decision__in=[Decision.ACCEPTED, Decision.CORRECTED],
        )
        .order_by("created_at", "id")
        .first()
    )
    if first is None:
        raise ReviewConflict("This prediction was already decided.")
    wanted = category.pk if category is not None else prediction.category_id
    if decision == Decision.CORRECTED and wanted == prediction.category_id:
        decision = Decision.ACCEPTED
    if (
        first.reviewer_id == reviewer.pk
        and first.decision == decision
        and first.final_category_id == wanted
    ):
        return first
    who = (
        "you" if first.reviewer_id == reviewer.pk else str(first.reviewer or "someone")
    )
    raise ReviewConflict(
        f"Already {first.get_decision_display().lower()} by {who} "
        f"{timesince(first.created_at)} ago as "
        f"“{first.final_category or 'no category'}”; your decision was not saved."
    )
