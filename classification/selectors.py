"""Reads for classification.

Longer than 400 lines: the review queue, live precision and the predictions the
dashboard aggregates are three groups of reads over the same two models; each
is a section below, ready to become a module of a package when one grows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from catalog.models import CategorySource, ProductImage

# wilson_interval: re-exported for the dashboard, which reads through selectors.
from classification.evidence import (
    audit_precision_by_version,
    wilson_interval,  # noqa: F401
)
from classification.models import (
    ModelVersion,
    NearDuplicate,
    Prediction,
    Review,
    ReviewReason,
)
from classification.pipeline import PipelineState, pipeline_state  # noqa: F401


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def predictions_current_for_images(*, image_ids: list[int]) -> dict[int, Prediction]:
    """Map image id to its current prediction (with category and version)."""
    predictions = Prediction.objects.filter(
        image_id__in=image_ids, is_current=True
    ).select_related("category", "model_version")
    return {p.image_id: p for p in predictions}


def prediction_list(*, merchant=None) -> QuerySet[Prediction]:
    # The product's category too: a disagreement names it (review_reason_text).
    predictions = Prediction.objects.select_related(
        "category", "model_version", "image", "image__product__category"
    )
    if merchant is not None:
        predictions = predictions.filter(image__merchant=merchant)
    return predictions


def prediction_list_with_reviews(*, merchant=None) -> QuerySet[Prediction]:
    """prediction_list with each prediction's reviews (newest first) prefetched."""
    return prediction_list(merchant=merchant).prefetch_related(
        Prefetch(
            "reviews",
            queryset=Review.objects.select_related(
                "final_category", "reviewer"
            ).order_by("-created_at", "-id"),
        )
    )


def prediction_get(*, merchant=None, pk: int) -> Prediction:
    """Return the prediction, or raise Http404 if its image is not the merchant's."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(prediction_list_with_reviews(merchant=merchant), pk=pk)


def reviews_latest_for_predictions(*, prediction_ids: list[int]) -> dict:
    """Map prediction id to its latest review (with category and reviewer)."""
    latest = {}
    reviews = (
        Review.objects.filter(prediction_id__in=prediction_ids)
        .select_related("final_category", "reviewer")
        .order_by("prediction_id", "-created_at", "-id")
    )
    for review in reviews:
        latest.setdefault(review.prediction_id, review)
    return latest


def images_unusable_reasons(*, image_ids: list[int]) -> dict[int, str]:
    """Map image id to why a reviewer found it unusable ("Too blurry"), for the
    images a standing decision marked so."""
    if not image_ids:
        return {}
    reasons = dict(Review.UnusableReason.choices)
    rows = (
        Review.objects.filter(
            prediction__image_id__in=image_ids,
            prediction__is_current=True,
            decision=Review.Decision.UNUSABLE,
        )
        .order_by("created_at", "id")
        .values_list("prediction__image_id", "unusable_reason")
    )
    return {image_id: reasons.get(reason, reason) for image_id, reason in rows}


def model_version_list() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related("created_by").order_by(
        "-created_at", "-id"
    )


def model_version_get(*, pk: int) -> ModelVersion:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(model_version_list(), pk=pk)


def job_list():
    from classification.models import Job

    return Job.objects.select_related("model_version", "created_by").order_by(
        "-created_at", "-id"
    )


def job_get(*, pk: int):
    from django.shortcuts import get_object_or_404

    return get_object_or_404(job_list(), pk=pk)


def classification_stats(*, merchant=None) -> dict:
    """Current predictions per category and status, the review backlog, and each
    model version's two precision figures: ``live_precision``, of the doubtful
    predictions a reviewer decided the share accepted as they were, and
    ``audit_precision``, the precision of its automatic decisions estimated from
    the audit samples alone, with its 95 % Wilson interval (overall and per
    category). Shadow predictions are left out: they did not act."""

    current = Prediction.objects.filter(is_current=True)
    every = Prediction.objects.exclude(status=Prediction.Status.SHADOW)
    if merchant is not None:
        current = current.filter(image__merchant=merchant)
        every = every.filter(image__merchant=merchant)
    per_category: dict = {}
    rows = (
        current.order_by()
        .values("category__slug", "status")
        .annotate(count=Count("id"))
    )
    for row in rows:
        per_category.setdefault(row["category__slug"], {})[row["status"]] = row["count"]
    backlog = current.filter(status=Prediction.Status.NEEDS_REVIEW).aggregate(
        count=Count("id"), oldest=Min("created_at")
    )
    failed = current.filter(status=Prediction.Status.FAILED).count()
    versions = []
    version_rows = (
        every.order_by()
        .values("model_version_id", "model_version__name")
        .annotate(
            predictions=Count("id"),
            auto_accepted=Count("id", filter=Q(status=Prediction.Status.AUTO_ACCEPTED)),
            accepted=Count(
                "id", filter=Q(status=Prediction.Status.ACCEPTED, audit=False)
            ),
            corrected=Count(
                "id", filter=Q(status=Prediction.Status.CORRECTED, audit=False)
            ),
            waiting=Count("id", filter=Q(status=Prediction.Status.NEEDS_REVIEW)),
        )
        .order_by("model_version_id")
    )
    audits = audit_precision_by_version(merchant=merchant)
    for row in version_rows:
        reviewed = row["accepted"] + row["corrected"]
        versions.append(
            {
                "id": row["model_version_id"],
                "name": row["model_version__name"],
                "predictions": row["predictions"],
                "auto_accepted": row["auto_accepted"],
                "reviewed": reviewed,
                "accepted": row["accepted"],
                "corrected": row["corrected"],
                "waiting_for_review": row["waiting"],
                "live_precision": row["accepted"] / reviewed if reviewed else None,
                "audit_precision": audits.get(row["model_version_id"]),
            }
        )
    return {
        "predictions_per_category": per_category,
        "review_backlog": {
            "needs_review": backlog["count"],
            "failed": failed,
            "oldest_waiting_since": backlog["oldest"],
        },
        "model_versions": versions,
    }


# --- The review queue and what reviewers' decisions tell -----------------------


def review_reason_text(prediction: Prediction, *, for_merchant: bool = False) -> str:
    """Why the photo waits for review, in words ("" when it does not wait).

    Needs the prediction's category (and, for a disagreement shown to staff, its
    image's product with its category) loaded.
    """
    reason = prediction.review_reason
    if not reason:
        return ""
    if reason == ReviewReason.LOW_CONFIDENCE:
        if prediction.category is None or prediction.confidence is None:
            return "the model named no known category"
        return (
            f"{prediction.confidence:.0%} is below the "
            f"{prediction.category.auto_accept_threshold:.2f} threshold for "
            f"{prediction.category.name}"
        )
    if reason == ReviewReason.DISAGREEMENT:
        if for_merchant:
            return "disagrees with your category"
        product = prediction.image.product
        return f"disagrees with the merchant's category “{product.category}”"
    if reason == ReviewReason.OUTLIER:
        return "not like the product's other photos"
    if reason == ReviewReason.FAILED:
        return "classification failed"
    # A reason added later says its own label.
    return dict(ReviewReason.choices).get(reason, reason).lower()


# Most uncertain first: the smallest gap between the first two categories; a
# failed prediction (no margin) is the most uncertain of all. The same
# expression as the prediction_review_queue index, so the index serves it.
REVIEW_QUEUE_ORDER = (Coalesce("margin", Value(-1.0)).asc(), "created_at", "id")


def review_queue(**filters) -> QuerySet[Prediction]:
    """The current predictions waiting for a person, most uncertain first.

    In the queue: predictions that need review (each with its stored
    ``review_reason``: below the category's threshold, against the category the
    merchant chose, not like the product's other photos) and failed ones. An
    auto-accepted prediction joins them when the product's category changes
    (``product_category.products_decide`` sends it back to review then), so the
    queue is one indexed status filter rather than a join of every prediction
    with its product (at 1,000,000 predictions: 40 ms of queries for the admin
    list, against 0.9 s for its page and 1.4 s for its count with the join).
    Each comes with its category,
    model version, image, merchant, product with its category, and the image's
    near-duplicates prefetched. ``filters`` are those of ``review_queue_filter``.
    """
    queue = (
        Prediction.objects.filter(
            is_current=True,
            status__in=[Prediction.Status.NEEDS_REVIEW, Prediction.Status.FAILED],
        )
        .select_related(
            "category",
            "model_version",
            "image__merchant",
            "image__product__category",
        )
        # Embeddings are kilobytes each and the queue never shows them.
        .defer("embedding")
        .prefetch_related(
            Prefetch(
                "image__near_duplicates",
                queryset=NearDuplicate.objects.select_related(
                    "duplicate_of__product__category"
                ).order_by("id"),
            )
        )
        .order_by(*REVIEW_QUEUE_ORDER)
    )
    return review_queue_filter(queue, **filters)


def review_queue_filter(
    queue: QuerySet[Prediction],
    *,
    merchant=None,
    category=None,
    model_version=None,
    reason: str | None = None,
    older_than: timedelta | None = None,
    skipped_by=None,
) -> QuerySet[Prediction]:
    """Narrow a review_queue() queryset (the admin's filters use it one at a time).

    Filters: ``merchant``, predicted ``category`` and ``model_version`` (instances
    or ids), ``reason``, ``older_than`` (waiting at least that long) and
    ``skipped_by`` (leave out what that reviewer skipped).
    """
    queue = _narrowed(
        queue, merchant=merchant, category=category, model_version=model_version
    )
    if reason:
        if reason not in ReviewReason.values:
            raise ValueError(f"unknown review reason {reason!r}")
        queue = queue.filter(review_reason=reason)
    if older_than is not None:
        queue = queue.filter(created_at__lte=timezone.now() - older_than)
    if skipped_by is not None:
        queue = queue.filter(
            ~Exists(
                Review.objects.filter(
                    prediction=OuterRef("pk"),
                    reviewer=skipped_by,
                    decision=Review.Decision.SKIPPED,
                )
            )
        )
    return queue


def _narrowed(
    predictions: QuerySet[Prediction], *, merchant, category, model_version
) -> QuerySet[Prediction]:
    """Keep the predictions of one merchant's images, of one predicted category
    and of one model version (instances or ids; None keeps them all)."""
    if merchant is not None:
        predictions = predictions.filter(image__merchant=merchant)
    if category is not None:
        predictions = predictions.filter(category=category)
    if model_version is not None:
        predictions = predictions.filter(model_version=model_version)
    return predictions


def live_precision(
    *,
    model_version=None,
    category=None,
    merchant=None,
    reviewed_since: datetime | None = None,
    reviewed_until: datetime | None = None,
    per_category: bool = True,
) -> QuerySet:
    """Per model version (and predicted category): the share of the predictions a
    reviewer decided that were right, accepted / (accepted + corrected).

    One aggregate query. Each row is a dict: ``model_version_id``,
    ``model_version_name``, with ``per_category`` also ``category_id``,
    ``category_slug``, ``category_name``; then ``accepted``, ``corrected``,
    ``reviewed`` and ``precision`` (a float). Failed predictions are left out:
    they named no category to be right or wrong about, and so are audit samples:
    they measure the automatic decisions (``evidence.audit_precision``), not the
    doubtful ones. ``reviewed_since`` and ``reviewed_until`` bound the time of
    the decision.
    """
    decided = Prediction.objects.filter(
        status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED],
        category__isnull=False,
        audit=False,
    )
    decided = _narrowed(
        decided, merchant=merchant, category=category, model_version=model_version
    )
    if reviewed_since is not None or reviewed_until is not None:
        decisions = Review.objects.filter(
            prediction=OuterRef("pk"),
            decision__in=[Review.Decision.ACCEPTED, Review.Decision.CORRECTED],
        )
        if reviewed_since is not None:
            decisions = decisions.filter(created_at__gte=reviewed_since)
        if reviewed_until is not None:
            decisions = decisions.filter(created_at__lt=reviewed_until)
        decided = decided.filter(Exists(decisions))
    keys = {"model_version_name": F("model_version__name")}
    order = ["model_version_id"]
    if per_category:
        keys |= {
            "category_slug": F("category__slug"),
            "category_name": F("category__name"),
        }
        order += ["category_name", "category_id"]
    fields = (
        ["model_version_id", "category_id"] if per_category else ["model_version_id"]
    )
    return (
        decided.order_by()
        .values(*fields, **keys)
        .annotate(
            accepted=Count("pk", filter=Q(status=Prediction.Status.ACCEPTED)),
            corrected=Count("pk", filter=Q(status=Prediction.Status.CORRECTED)),
            reviewed=Count("pk"),
        )
        .annotate(
            precision=Cast("accepted", FloatField()) / Cast("reviewed", FloatField())
        )
        .order_by(*order)
    )


@dataclass(frozen=True)
class ProductReviewNotices:
    """What a merchant is told on a product's page about reviews and duplicates."""

    # The decision by which a reviewer changed (or first set) the category, while
    # that category is still the product's.
    category_change: Review | None
    # This product's photos that repeat a photo already on another product.
    near_duplicates: list[NearDuplicate]

    def __bool__(self) -> bool:
        return bool(self.category_change or self.near_duplicates)


def product_review_notices(*, product) -> ProductReviewNotices:
    """Return the notices for ``product``'s page (two queries at most)."""
    change = None
    if product.category_source == CategorySource.REVIEWER:
        change = (
            Review.objects.filter(
                prediction__image__product=product,
                decision__in=[Review.Decision.ACCEPTED, Review.Decision.CORRECTED],
                final_category_id=product.category_id,
            )
            .filter(
                Q(previous_category__isnull=True)
                | ~Q(previous_category=F("final_category"))
            )
            .select_related("final_category", "previous_category")
            .order_by("-created_at", "-id")
            .first()
        )
    duplicates = list(
        NearDuplicate.objects.filter(
            image__product=product, duplicate_of__merchant_id=product.merchant_id
        )
        .exclude(duplicate_of__product=product)
        .select_related("image", "duplicate_of__product")
        .order_by("image_id", "id")
    )
    return ProductReviewNotices(category_change=change, near_duplicates=duplicates)


def product_other_photos(*, image) -> list[dict]:
    """The other photos of ``image``'s product, each with its current prediction
    (category loaded) and why it waits, for the queue's work page."""
    others = list(
        ProductImage.objects.filter(product_id=image.product_id)
        .exclude(pk=image.pk)
        .order_by("created_at", "id")
    )
    current = {
        p.image_id: p
        for p in Prediction.objects.filter(
            image__in=others, is_current=True
        ).select_related("category")
    }
    return [
        {
            "image": other,
            "prediction": current.get(other.pk),
            "reason": review_reason_text(current[other.pk], for_merchant=True)
            if other.pk in current
            else "",
        }
        for other in others
    ]


def review_history(
    *,
    reviewer=None,
    decision: str | None = None,
    undone: bool | None = None,
    search: str = "",
) -> QuerySet[Review]:
    """Decisions, undone ones included, newest first: ``reviewer``'s (everyone's
    when None), of one ``decision``, undone or standing, about a product whose
    name, SKU or merchant contains ``search``."""
    reviews = Review.all_objects.select_related(
        "prediction__image__product__merchant",
        "prediction__category",
        "final_category",
        "previous_category",
        "reviewer",
    ).order_by("-created_at", "-id")
    if reviewer is not None:
        reviews = reviews.filter(reviewer=reviewer)
    if decision:
        reviews = reviews.filter(decision=decision)
    if undone is not None:
        reviews = reviews.filter(undone_at__isnull=not undone)
    if search:
        reviews = reviews.filter(
            Q(prediction__image__product__name__icontains=search)
            | Q(prediction__image__product__sku__icontains=search)
            | Q(prediction__image__merchant__name__icontains=search)
        )
    return reviews


def prediction_image_ids(*, prediction_ids: list[int]) -> list[dict]:
    """``{"pk", "image_id"}`` for each of the predictions."""
    return list(
        Prediction.objects.filter(pk__in=prediction_ids).values("pk", "image_id")
    )


# --- Predictions and reviews over time (what the dashboard aggregates) --------
# Conditions for filters and filtered counts; dashboard/selectors/__init__.py
# defines each term. The querysets below are unordered and join nothing, so an
# aggregate over them reads the indexes the dashboard's migrations made.

# The model answered (it gave a confidence), or it could not.
PREDICTION_CLASSIFIED = Q(confidence__isnull=False)
PREDICTION_FAILED = Q(confidence__isnull=True)
# The model decided by itself: an audit sample too (it set the category, and a
# reviewer checks it only to measure the automatic decisions).
PREDICTION_AUTO_ACCEPTED = Q(status=Prediction.Status.AUTO_ACCEPTED) | Q(audit=True)
PREDICTION_ACCEPTED = Q(status=Prediction.Status.ACCEPTED)
PREDICTION_CORRECTED = Q(status=Prediction.Status.CORRECTED)
# A reviewer decided it, for good (the review service refuses a second decision).
PREDICTION_DECIDED = Q(
    status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED]
)
# It waits for a reviewer or one decided it.
PREDICTION_SENT_TO_REVIEW = PREDICTION_CLASSIFIED & Q(
    status__in=[
        Prediction.Status.NEEDS_REVIEW,
        Prediction.Status.ACCEPTED,
        Prediction.Status.CORRECTED,
    ],
    audit=False,
)
# An audit sample a reviewer decided: evidence about the automatic decisions.
PREDICTION_AUDITED = PREDICTION_DECIDED & Q(audit=True)
# It is in the review queue now.
PREDICTION_WAITING = Q(status=Prediction.Status.NEEDS_REVIEW, is_current=True)
DECISIVE = [Review.Decision.ACCEPTED, Review.Decision.CORRECTED]


def prediction_queryset(
    *,
    merchant=None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> QuerySet[Prediction]:
    """Predictions of ``merchant``'s images (all when None) written from
    ``start_at`` to just before ``end_at``: a base for aggregates. Shadow
    predictions are left out: they did not act."""
    predictions = Prediction.objects.exclude(status=Prediction.Status.SHADOW)
    if merchant is not None:
        predictions = predictions.filter(image__merchant=merchant)
    bounds = {"created_at__gte": start_at, "created_at__lt": end_at}
    return predictions.filter(
        **{key: at for key, at in bounds.items() if at is not None}
    )


def prediction_decided_with_settled_category(
    *,
    merchant=None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> QuerySet[Prediction]:
    """The predictions of prediction_queryset() a reviewer decided, each with
    ``settled``: the id of the category the reviewer settled on (the
    prediction's own when accepted, the correction's otherwise)."""
    # A decision is final, so a prediction has at most one correction.
    correction = Review.objects.filter(
        prediction=OuterRef("pk"), decision=Review.Decision.CORRECTED
    ).order_by()
    return (
        prediction_queryset(merchant=merchant, start_at=start_at, end_at=end_at)
        .filter(PREDICTION_DECIDED)
        .annotate(
            settled=Case(
                When(PREDICTION_ACCEPTED, then=F("category_id")),
                default=Subquery(correction.values("final_category_id")[:1]),
                output_field=BigIntegerField(),
            )
        )
    )


def prediction_replaced_unreviewed(*, merchant=None, since: datetime) -> QuerySet:
    """Predictions that waited for a reviewer until a newer prediction of their
    image replaced them (at ``replaced_at``, since ``since``), undecided."""
    replaced_at = Subquery(
        Prediction.objects.filter(
            image=OuterRef("image"), created_at__gt=OuterRef("created_at")
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return (
        prediction_queryset(merchant=merchant)
        .filter(status=Prediction.Status.NEEDS_REVIEW, is_current=False)
        .exclude(
            Exists(
                Review.objects.filter(prediction=OuterRef("pk"), decision__in=DECISIVE)
            )
        )
        .annotate(replaced_at=replaced_at)
        .filter(replaced_at__gte=since)
    )


def review_decisive(*, merchant=None, since: datetime) -> QuerySet:
    """Accepting and correcting reviews of ``merchant``'s images (all when None),
    made since ``since``: the decisions that took a prediction off the queue."""
    reviews = Review.objects.all()
    if merchant is not None:
        reviews = reviews.filter(prediction__image__merchant=merchant)
    return reviews.filter(decision__in=DECISIVE, created_at__gte=since)
