"""Query filters for the prediction list, applied on a merchant-scoped selector."""

import django_filters

from classification.models import Job, ModelVersion, Prediction, Review
from config.filters import BooleanFilter, IdFilter, StrictFilterSet


class PredictionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=Prediction.Status.choices)
    category = django_filters.CharFilter(
        field_name="category__slug", help_text="Predicted category slug."
    )
    model_version = IdFilter(
        field_name="model_version_id", help_text="Model version id."
    )
    confidence_min = django_filters.NumberFilter(
        field_name="confidence", lookup_expr="gte", help_text="At least this."
    )
    confidence_max = django_filters.NumberFilter(
        field_name="confidence", lookup_expr="lte", help_text="At most this."
    )
    current = BooleanFilter(
        field_name="is_current", help_text="Only each image's latest prediction."
    )
    image = IdFilter(field_name="image_id")
    product = IdFilter(field_name="image__product_id")
    merchant = IdFilter(
        field_name="image__merchant_id", help_text="Staff: one merchant's."
    )

    class Meta:
        model = Prediction
        fields = [
            "status",
            "category",
            "model_version",
            "confidence_min",
            "confidence_max",
            "current",
            "image",
            "product",
            "merchant",
        ]


class JobFilter(StrictFilterSet):
    class Meta:
        model = Job
        fields = ["kind", "status"]


class ModelVersionFilter(StrictFilterSet):
    status = django_filters.ChoiceFilter(choices=ModelVersion.Status.choices)

    class Meta:
        model = ModelVersion
        fields = ["status"]


class DecisionFilter(StrictFilterSet):
    decision = django_filters.ChoiceFilter(choices=Review.Decision.choices)
    undone = BooleanFilter(
        field_name="undone_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: only undone decisions; false: only standing ones.",
    )
    batch = django_filters.UUIDFilter(help_text="One bulk decision's.")
    product = IdFilter(field_name="prediction__image__product_id")

    class Meta:
        model = Review
        fields = ["decision", "undone", "batch", "product"]
