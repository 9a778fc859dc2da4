"""Reads for classification."""

from django.db.models import QuerySet

from classification.models import ModelVersion, Prediction


def model_version_active() -> ModelVersion | None:
    return ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()


def predictions_current_for_images(*, image_ids: list[int]) -> dict[int, Prediction]:
    """Map image id to its current prediction (with category and version)."""
    predictions = Prediction.objects.filter(
        image_id__in=image_ids, is_current=True
    ).select_related("category", "model_version")
    return {p.image_id: p for p in predictions}


def prediction_list(*, merchant=None) -> QuerySet[Prediction]:
    predictions = Prediction.objects.select_related(
        "category", "model_version", "image", "image__product"
    )
    if merchant is not None:
        predictions = predictions.filter(image__merchant=merchant)
    return predictions
