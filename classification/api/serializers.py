"""Input and output shapes for classification: predictions, reviews, model
versions, jobs, statistics and on-the-spot classification."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.serializers import (
    ModelVersionRefSerializer,
    StrictSlugRelatedField,
    TopKEntrySerializer,
)
from catalog.selectors import category_list
from classification.models import Job, ModelVersion, Prediction, Review
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
            "review",
            "created_at",
        ]
        read_only_fields = fields

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
        help_text="`accepted` takes the predicted category; `corrected` needs "
        "`category`; `skipped` only records that this reviewer passed.",
    )
    category = StrictSlugRelatedField(
        slug_field="slug",
        queryset=category_list(),
        required=False,
        allow_null=True,
        help_text="The right category's slug (for `corrected`).",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BulkReviewInputSerializer(serializers.Serializer):
    prediction_ids = id_list(allow_empty=False, max_length=MAX_BULK_REVIEW)
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    category = StrictSlugRelatedField(
        slug_field="slug",
        queryset=category_list(),
        required=False,
        allow_null=True,
        help_text="For `corrected`: the category every product gets.",
    )


class BulkReviewResultSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField()
    conflicts = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids left as they were: decided already, classified again "
        "since, unknown, or without a category to accept.",
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
        help_text="Of the predictions a reviewer decided, the share accepted as "
        "they were; null before any decision.",
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
