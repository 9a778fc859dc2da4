"""Writes for reviews: a reviewer's decision on a prediction, one or many at once,
and undoing one.

A decision labels the photo, and is final for that prediction: accepted or
corrected, the photo is reviewed and its label is the category chosen; unusable
(with its reason), the photo leaves the queue, votes for nothing and teaches
nothing. The product's category then follows the vote of its photos
(product_category.products_decide), which never changes a category the
merchant or a reviewer chose: replacing that is its own explicit choice
(``set_product_category``). Skipping records only that this reviewer passed.

Each Review stores the product's state before and after it (products_state),
so undoing puts back exactly what it changed, while the product is still as
the decision left it; a decision undone stays in the history (Review.all_objects).

Two reviewers on the same item: the prediction row is locked (``select_for_update``)
and its state checked, so the second one gets ReviewConflict instead of
overwriting the first decision.
"""

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.models import User
from catalog.models import Category, CategorySource, ImageStatus
from catalog.selectors import category_labels
from catalog.services import (
    images_set_status,
    product_set_category,
    products_set_categories,
)
from classification import signals
from classification.models import Prediction, Review
from classification.services.product_category import (
    products_decide,
    products_state,
    products_state_restore,
)
from config.errors import Conflict, InvalidInput, NotFound

logger = logging.getLogger(__name__)

Decision = Review.Decision
# A decision on these is final; a new prediction (re-classification) starts over.
DECIDED = {
    Prediction.Status.ACCEPTED,
    Prediction.Status.CORRECTED,
    Prediction.Status.UNUSABLE,
}
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
    Decision.UNUSABLE: Prediction.Status.UNUSABLE,
}
LABELS = (Decision.ACCEPTED, Decision.CORRECTED)


class ReviewError(InvalidInput):
    """The review asked for cannot be made (bad input or a prediction not in review)."""

    field = "decision"


class ReviewConflict(Conflict):
    """Someone else decided this prediction first, or it was classified again."""


class DecisionNotFound(NotFound):
    """No decision (or batch) of this user's by that id, to undo."""


@dataclass(frozen=True)
class BulkReviewResult:
    reviewed: int
    # Ids left as they were: decided already, classified again since, gone, or
    # (for a bulk accept) without a category to accept.
    conflicts: list[int] = field(default_factory=list)
    batch: uuid.UUID | None = None
    reviews: list[Review] = field(default_factory=list)


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk decision would change, worked out without keeping it."""

    photos: int
    low_confidence: int
    # (product id, product name, category name before, category name after)
    category_changes: list[tuple[int, str, str | None, str | None]]
    conflicts: list[int]


@dataclass(frozen=True)
class UndoResult:
    undone: list[Review]
    # Decisions left standing: the product changed since, or already undone.
    conflicts: list[int] = field(default_factory=list)


def prediction_review(
    *,
    prediction_id: int,
    reviewer: User,
    decision: str,
    category: Category | None = None,
    note: str = "",
    unusable_reason: str = "",
    set_product_category: bool = False,
) -> Review:
    """Record ``reviewer``'s decision on one prediction and apply it.

    ``decision`` is a Review.Decision value: "accepted" labels the photo with
    the prediction's top category; "corrected" needs ``category`` (choosing the
    top category counts as accepted); "unusable" needs ``unusable_reason`` (a
    Review.UnusableReason value); "skipped" changes nothing but takes the item
    out of this reviewer's next-item flow. With ``set_product_category`` the
    label also becomes the product's category, whoever chose the one it has.
    Raise ReviewError for bad input and ReviewConflict when another decision
    was made first. Sending the same decision again (a double click) returns
    the first review.
    """
    decision = _clean_decision(
        decision, category, unusable_reason, set_product_category
    )
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
        before = products_state(product_ids=[product.pk])[product.pk]
        review = Review.objects.create(
            prediction=prediction,
            reviewer=reviewer,
            decision=decision,
            final_category_id=final,
            previous_category_id=product.category_id,
            note=note,
            unusable_reason=unusable_reason,
            sets_product_category=set_product_category,
            before=before,
            after=before,
        )
        if decision != Decision.SKIPPED:
            _apply_decisions([review], set_product_category=set_product_category)
            prediction.status = STATUS_FOR[decision]
            review.after = products_state(product_ids=[product.pk])[product.pk]
            Review.objects.filter(pk=review.pk).update(after=review.after)
            product.refresh_from_db(fields=["category", "category_source"])
            if decision in LABELS:
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
    unusable_reason: str = "",
    set_product_category: bool = False,
) -> BulkReviewResult:
    """Apply one decision to many predictions in a fixed number of queries.

    "accepted" labels each photo with its own prediction's top category;
    "corrected" labels every photo ``category``; "unusable" marks each photo
    unusable for ``unusable_reason``; "skipped" records a skip for each. With
    ``set_product_category`` each product takes its photo's label (of two
    photos of one product, the later in the list). The ids that could not be
    reviewed are returned in ``conflicts``; the others are reviewed all together
    or not at all, as one batch (undone together by reviews_undo).
    """
    decision = _clean_decision(
        decision, category, unusable_reason, set_product_category
    )
    ids = list(dict.fromkeys(int(pk) for pk in prediction_ids))
    if not ids:
        return BulkReviewResult(reviewed=0, conflicts=[])
    batch = uuid.uuid4()
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
        chosen, conflicts = [], []
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
            chosen.append((prediction, final))
        before = products_state(product_ids={p.image.product_id for p, _ in chosen})
        reviews = [
            Review(
                prediction=prediction,
                reviewer=reviewer,
                decision=Decision.ACCEPTED
                if decision == Decision.CORRECTED and final == prediction.category_id
                else decision,
                final_category_id=final,
                previous_category_id=prediction.image.product.category_id,
                unusable_reason=unusable_reason,
                sets_product_category=set_product_category,
                batch=batch,
                before=before[prediction.image.product_id],
                after=before[prediction.image.product_id],
            )
            for prediction, final in chosen
        ]
        if reviews:
            Review.objects.bulk_create(reviews)
        if reviews and decision != Decision.SKIPPED:
            _apply_decisions(reviews, set_product_category=set_product_category)
            after = products_state(product_ids=before.keys())
            for review in reviews:
                review.after = after[review.prediction.image.product_id]
            Review.objects.bulk_update(reviews, ["after"])
            labelled = [r for r in reviews if r.decision in LABELS]
            if labelled:
                signals.images_reviewed.send(sender=Prediction, reviews=labelled)
    logger.info(
        "bulk %s by %s: %s reviewed, %s left",
        decision,
        reviewer.pk,
        len(reviews),
        len(conflicts),
    )
    return BulkReviewResult(
        reviewed=len(reviews),
        conflicts=conflicts,
        batch=batch if reviews else None,
        reviews=reviews,
    )


class _DryRun(Exception):
    """Raised to roll a preview's writes back."""


def predictions_review_bulk_preview(**kwargs) -> BulkPreview:
    """Tell what predictions_review_bulk(**kwargs) would change, changing nothing.

    The decision is made for real in a transaction that is then rolled back, so
    the preview is what the rule gives, not a second account of it.
    """
    result: list[BulkPreview] = []
    try:
        with transaction.atomic():
            outcome = predictions_review_bulk(**kwargs)
            result.append(_preview_of(outcome))
            raise _DryRun
    except _DryRun:
        pass
    return result[0]


def _preview_of(outcome: BulkReviewResult) -> BulkPreview:
    by_product = {}
    for review in outcome.reviews:
        by_product.setdefault(review.prediction.image.product_id, review)
    changing = {
        pk: (r.before["category"], r.after["category"])
        for pk, r in by_product.items()
        if r.before["category"] != r.after["category"]
    }
    names = {pk: name for pk, (_, name) in category_labels().items()}
    products = {
        pk: r.prediction.image.product.name
        for pk, r in by_product.items()
        if pk in changing
    }
    # Below its category's threshold, or with no confidence or category at all.
    low = sum(
        1
        for confidence, threshold in Prediction.objects.filter(
            pk__in=[r.prediction_id for r in outcome.reviews]
        ).values_list("confidence", "category__auto_accept_threshold")
        if confidence is None or threshold is None or confidence < threshold
    )
    return BulkPreview(
        photos=outcome.reviewed,
        low_confidence=low,
        category_changes=sorted(
            (
                (pk, products[pk], names.get(old), names.get(new))
                for pk, (old, new) in changing.items()
            ),
            key=lambda change: change[1],
        ),
        conflicts=outcome.conflicts,
    )


def reviews_undo(
    *,
    user: User,
    review_id: int | None = None,
    batch: uuid.UUID | None = None,
    others_too: bool = False,
) -> UndoResult:
    """Undo one decision (``review_id``) or a whole bulk decision (``batch``).

    Each product the decisions touched goes back to the state it had before
    them (category and who set it, photos' and predictions' statuses), when it
    is still as they left it; otherwise its decisions stay and their ids are in
    ``conflicts``. A review from a bulk decision is undone with the batch's
    other decisions on the same product. Only the reviewer's own decisions,
    unless ``others_too`` (another's decision is not found). Raise
    DecisionNotFound when there is no such decision, ReviewConflict when it is
    undone already or (for one decision) its product changed since.
    """
    if (review_id is None) == (batch is None):
        raise ReviewError("Name one decision or one batch to undo.")
    with transaction.atomic():
        reviews = Review.all_objects.select_for_update(of=("self",)).select_related(
            "prediction__image"
        )
        if not others_too:
            reviews = reviews.filter(reviewer=user)
        if review_id is not None:
            first = reviews.filter(pk=review_id).first()
            if first is None:
                raise DecisionNotFound(f"There is no decision {review_id} of yours.")
            group = (
                list(
                    reviews.filter(
                        batch=first.batch,
                        prediction__image__product_id=first.prediction.image.product_id,
                    )
                )
                if first.batch
                else [first]
            )
        else:
            group = list(reviews.filter(batch=batch))
            if not group:
                raise DecisionNotFound(f"There is no batch of decisions {batch}.")
        standing = [r for r in group if r.undone_at is None]
        if not standing:
            raise ReviewConflict("This decision was undone already.")
        by_product: dict[int, list[Review]] = {}
        for review in standing:
            by_product.setdefault(review.prediction.image.product_id, []).append(review)
        now_state = products_state(product_ids=by_product.keys())
        undo, conflicts, restore = [], [], {}
        for product_id, product_reviews in by_product.items():
            if now_state.get(product_id) != product_reviews[0].after:
                conflicts.extend(r.pk for r in product_reviews)
                continue
            restore[product_id] = product_reviews[0].before
            undo.extend(product_reviews)
        if review_id is not None and conflicts:
            raise ReviewConflict(
                "The product changed since this decision (another decision, a new "
                "photo, a new category or a new classification); decide again "
                "instead of undoing."
            )
        if restore:
            products_state_restore(states=restore)
        now = timezone.now()
        Review.all_objects.filter(pk__in=[r.pk for r in undo]).update(
            undone_at=now, undone_by=user
        )
        for review in undo:
            review.undone_at, review.undone_by = now, user
    logger.info("%s decisions undone by %s", len(undo), user.pk)
    return UndoResult(undone=undo, conflicts=conflicts)


def _apply_decisions(reviews: list[Review], *, set_product_category: bool) -> None:
    # A fixed number of queries whatever the number of reviews: one update of
    # predictions and one of images per decision, one of products, and the vote.
    for decision, status in STATUS_FOR.items():
        chosen = [r for r in reviews if r.decision == decision]
        if not chosen:
            continue
        Prediction.objects.filter(pk__in=[r.prediction_id for r in chosen]).update(
            status=status, review_reason=""
        )
        images_set_status(
            image_ids=[r.prediction.image_id for r in chosen],
            status=ImageStatus.UNUSABLE
            if decision == Decision.UNUSABLE
            else ImageStatus.REVIEWED,
        )
    if set_product_category:
        # Two photos of one product in the batch: the later one in the list wins.
        categories = {
            r.prediction.image.product_id: r.final_category_id
            for r in reviews
            if r.final_category_id is not None
        }
        if len(reviews) == 1 and categories:
            product_set_category(
                product=reviews[0].prediction.image.product,
                category=Category(
                    pk=categories[reviews[0].prediction.image.product_id]
                ),
                source=CategorySource.REVIEWER,
            )
        elif categories:
            products_set_categories(
                categories=categories, source=CategorySource.REVIEWER
            )
    products_decide(
        product_ids={r.prediction.image.product_id for r in reviews},
        source=CategorySource.REVIEWER,
    )


def _clean_decision(
    decision: str,
    category: Category | None,
    unusable_reason: str,
    set_product_category: bool,
) -> str:
    if decision not in Decision.values:
        raise ReviewError(
            f"Unknown decision {decision!r}; use one of {', '.join(Decision.values)}."
        )
    if decision == Decision.UNUSABLE:
        if unusable_reason not in Review.UnusableReason.values:
            raise ReviewError(
                "Say why the photo is unusable: one of "
                f"{', '.join(Review.UnusableReason.values)}."
            )
        if category is not None:
            raise ReviewError("An unusable photo takes no category.")
    elif unusable_reason:
        raise ReviewError("Only an unusable photo takes a reason.")
    if set_product_category and decision not in LABELS:
        raise ReviewError(
            "Only an accept or a correction can set the product's category."
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
    if decision in (Decision.SKIPPED, Decision.UNUSABLE):
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
            decision__in=[Decision.ACCEPTED, Decision.CORRECTED, Decision.UNUSABLE],
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
