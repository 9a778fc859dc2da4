"""Input and output shapes for classification: predictions, reviews, model
versions, jobs, statistics and on-the-spot classification."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import (
    ModelVersionRefSerializer,
    TopKEntrySerializer,
    category_slug_field,
)
from classification.models import Job, ModelVersion, Prediction, Review
from classification.selectors import review_reason_text
from config.api import read_only_slug
from config.fields import id_list

MAX_BULK_REVIEW = 500

# --- Classify without storing -------------------------------------------------


class ClassifyInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,
        help_text="One photo (JPEG, PNG, WebP, GIF or HEIC), at most "
        "VITRINE_UPLOAD_MAX_BYTES.",
    )


class ClassifyResultSerializer(serializers.Serializer):
    top_k = TopKEntrySerializer(many=True, help_text="Best first.")
    model_version = ModelVersionRefSerializer()
    latency_ms = serializers.FloatField(help_text="Preprocessing and inference.")


# --- Predictions and reviews --------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    """A review; who made it and their note only for ``review_details`` callers.

    Merchants see the decision, not the reviewer's name or internal note: with
    ``review_details`` false (the default) in the context both are null.
    """

    final_category = read_only_slug("slug")
    reviewer = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Reviewers and platform admins only; null for merchants.",
    )
    note = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Reviewers and platform admins only; null for merchants.",
    )

    class Meta:
        model = Review
        fields = [
            "id",
            "decision",
            "final_category",
            "reviewer",
            "note",
            "created_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("review_details", False):
            data["reviewer"] = None
            data["note"] = None
        return data


class PredictionSerializer(serializers.ModelSerializer):
    """Expects ``category_names`` (slug to name) in the context."""

    review_reason = serializers.CharField(
        read_only=True,
        help_text="Why it waits for review: `low_confidence`, `disagreement` "
        "(with the merchant's category), `outlier` (not like the product's other "
        "photos), `failed`; more may come. Empty when it does not wait.",
    )
    review_reason_text = serializers.SerializerMethodField(
        help_text="The same in words, e.g. “41% is below the 0.60 threshold for "
        "Apparel”."
    )

    product = serializers.IntegerField(source="image.product_id", read_only=True)
    merchant = serializers.IntegerField(source="image.merchant_id", read_only=True)
    category = read_only_slug("slug")
    model_version = ModelVersionRefSerializer(read_only=True)
    top_k = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "image",
            "product",
            "merchant",
            "model_version",
            "status",
            "category",
            "confidence",
            "margin",
            "top_k",
            "latency_ms",
            "error",
            "is_current",
            "review_reason",
            "review_reason_text",
            "review",
            "created_at",
        ]
        read_only_fields = fields

    def get_review_reason_text(self, prediction: Prediction) -> str:
        return review_reason_text(
            prediction, for_merchant=not self.context.get("review_details", False)
        )

    @extend_schema_field(TopKEntrySerializer(many=True))
    def get_top_k(self, prediction: Prediction) -> list[dict]:
        names = self.context["category_names"]
        return [
            {
                "category": entry["category"],
                "name": names.get(entry["category"]),
                "probability": entry["probability"],
            }
            for entry in prediction.top_k
        ]

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, prediction: Prediction) -> dict | None:
        # The reviews are prefetched newest first by the selector.
        reviews = list(prediction.reviews.all())
        if not reviews:
            return None
        return ReviewSerializer(reviews[0], context=self.context).data


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=Review.Decision.choices,
        help_text="`accepted` labels the photo with the predicted category; "
        "`corrected` needs `category`; `unusable` needs `unusable_reason`; "
        "`skipped` only records that this reviewer passed.",
    )
    unusable_reason = serializers.ChoiceField(
        choices=Review.UnusableReason.choices,
        required=False,
        default="",
        help_text="For `unusable`: why the photo cannot be used.",
    )
    set_product_category = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also make the label the product's category, replacing the "
        "merchant's if need be (otherwise the decision labels the photo only).",
    )
    category = category_slug_field("The right category's slug (for `corrected`).")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BulkReviewInputSerializer(serializers.Serializer):
    prediction_ids = id_list(allow_empty=False, max_length=MAX_BULK_REVIEW)
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    category = category_slug_field("For `corrected`: the category every product gets.")
    unusable_reason = serializers.ChoiceField(
        choices=Review.UnusableReason.choices, required=False, default=""
    )
    set_product_category = serializers.BooleanField(required=False, default=False)


class BulkReviewResultSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField()
    conflicts = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids left as they were: decided already, classified again "
        "since, unknown, or without a category to accept.",
    )
    batch = serializers.UUIDField(
        allow_null=True, help_text="Undo them all with `reviews/undo/`."
    )


class CategoryChangeSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    name = serializers.CharField()
    category_before = serializers.CharField(allow_null=True)
    category_after = serializers.CharField(allow_null=True)


class BulkPreviewSerializer(serializers.Serializer):
    photos = serializers.IntegerField(help_text="Photos the decision would take.")
    low_confidence = serializers.IntegerField(
        help_text="Of those, how many are below their category's threshold."
    )
    category_changes = CategoryChangeSerializer(
        many=True, help_text="The products whose category would change (names)."
    )
    conflicts = serializers.ListField(child=serializers.IntegerField())


class DecisionSerializer(serializers.ModelSerializer):
    """One of the caller's decisions, as the history shows it."""

    product = serializers.IntegerField(source="prediction.image.product_id")
    product_name = serializers.CharField(source="prediction.image.product.name")
    image = serializers.IntegerField(source="prediction.image_id")
    final_category = read_only_slug("slug")
    product_category_before = serializers.SerializerMethodField()
    product_category_after = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "prediction",
            "image",
            "product",
            "product_name",
            "decision",
            "final_category",
            "unusable_reason",
            "sets_product_category",
            "product_category_before",
            "product_category_after",
            "note",
            "batch",
            "created_at",
            "undone_at",
        ]
        read_only_fields = fields

    def _slug(self, state: dict) -> str | None:
        return self.context["category_slugs"].get((state or {}).get("category"))

    def get_product_category_before(self, review: Review) -> str | None:
        return self._slug(review.before)

    def get_product_category_after(self, review: Review) -> str | None:
        return self._slug(review.after)


class UndoInputSerializer(serializers.Serializer):
    batch = serializers.UUIDField(help_text="A bulk decision's `batch`.")


class UndoResultSerializer(serializers.Serializer):
    undone = serializers.ListField(
        child=serializers.IntegerField(), help_text="Decisions undone."
    )
    conflicts = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Decisions left standing: their product changed since.",
    )


# --- Model versions and jobs --------------------------------------------------


class ModelVersionSerializer(serializers.ModelSerializer):
    created_by = read_only_slug("username")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "architecture",
            "status",
            "classes",
            "metrics",
            "training",
            "checksum",
            "serving",
            "created_by",
            "created_at",
            "activated_at",
        ]
        read_only_fields = fields


class ActivateInputSerializer(serializers.Serializer):
    confirm = serializers.BooleanField(
        default=False, help_text="Activate even when the comparison warns."
    )


class ActivationComparisonSerializer(serializers.Serializer):
    version = serializers.DictField()
    active = serializers.DictField(allow_null=True)
    metrics = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{name, key, candidate, active}]: test (else validation) "
        "figures side by side.",
    )
    cannot_predict = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{category, name, products}]: categories products use that "
        "this version has no class for.",
    )
    thresholds = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{category, name, threshold, source}]: the auto-accept "
        'threshold each category would have ("calibrated" or "current").',
    )
    review_share = serializers.FloatField(
        allow_null=True,
        help_text="Share of its evaluation photos that go to review at those "
        "thresholds.",
    )
    shadow = serializers.DictField(
        allow_null=True,
        help_text="Its shadow results: photos, agreement, flips per category, "
        "auto_accept_share beside active_auto_accept_share, reviewed, precision "
        "beside active_precision.",
    )
    warnings = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())


class JobSerializer(serializers.ModelSerializer):
    model_version = ModelVersionRefSerializer(read_only=True, allow_null=True)
    created_by = read_only_slug("username")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "message",
            "params",
            "result",
            "model_version",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class TrainInputSerializer(serializers.Serializer):
    params = serializers.DictField(
        required=False,
        default=dict,
        help_text="Training parameters, as `train_model` takes them: source "
        "(catalog, folder, csv, fashion_mnist), data, val_data, labels, "
        "image_column, label_column, name, mode (head, finetune), seed, epochs, "
        "target_precision, class_balanced, create_categories, activate. Paths "
        "lie inside the training data folder.",
    )


class ReclassifyInputSerializer(serializers.Serializer):
    only_unseen = serializers.BooleanField(
        default=True,
        help_text="Only images the active version has not classified yet.",
    )


# --- Statistics ---------------------------------------------------------------


class ReviewBacklogSerializer(serializers.Serializer):
    needs_review = serializers.IntegerField()
    failed = serializers.IntegerField()
    oldest_waiting_since = serializers.DateTimeField(allow_null=True)


class AuditEstimateFields(serializers.Serializer):
    audited = serializers.IntegerField(help_text="Audit samples a reviewer decided.")
    correct = serializers.IntegerField(help_text="Of those, accepted as they were.")
    precision = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(
        allow_null=True, help_text="Lower bound of the 95 % Wilson interval."
    )
    high = serializers.FloatField(
        allow_null=True, help_text="Upper bound of the 95 % Wilson interval."
    )


class AuditCategorySerializer(AuditEstimateFields):
    category_id = serializers.IntegerField()
    category_slug = serializers.CharField()
    category_name = serializers.CharField()


class AuditPrecisionSerializer(AuditEstimateFields):
    per_category = AuditCategorySerializer(many=True)


class VersionStatsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    predictions = serializers.IntegerField()
    auto_accepted = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    accepted = serializers.IntegerField()
    corrected = serializers.IntegerField()
    waiting_for_review = serializers.IntegerField()
    live_precision = serializers.FloatField(
        allow_null=True,
        help_text="Of the doubtful predictions (sent to review) a reviewer "
        "decided, the share accepted as they were; null before any decision. "
        "Audit samples are not counted here.",
    )
    audit_precision = AuditPrecisionSerializer(
        allow_null=True,
        help_text="Precision of the automatic decisions, estimated from the "
        "audit samples of auto-accepted predictions alone, with its 95 % Wilson "
        "interval, overall and per category; null before any audit decision.",
    )


class StatsSerializer(serializers.Serializer):
    products = serializers.IntegerField()
    products_per_category = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Category slug to product count; the empty key counts "
        "products without a category.",
    )
    images = serializers.IntegerField()
    images_per_status = serializers.DictField(child=serializers.IntegerField())
    predictions_per_category = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Current predictions: category slug (empty: none, as for a "
        "failure) to {status: count}.",
    )
    review_backlog = ReviewBacklogSerializer()
    model_versions = VersionStatsSerializer(many=True)
