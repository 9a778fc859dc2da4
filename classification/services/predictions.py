"""Writes for predictions: classify an image, record a failure, re-queue.

Torch is imported lazily (through the versions service) so web processes stay light.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from catalog.models import Category, CategorySource, ImageStatus, ProductImage
from catalog.services import image_set_status, product_set_category, upload_read
from classification import signals
from classification.models import ClassificationRequest, ModelVersion, Prediction
from classification.services.duplicates import image_near_duplicates_find
from classification.services.versions import (
    classifier_for,
    model_version_ensure_default,
)
from imaging.decode import decode_image
from imaging.errors import ImageRejected

logger = logging.getLogger(__name__)


class PermanentClassificationError(Exception):
    """Classifying the image cannot succeed by trying again."""


@dataclass(frozen=True)
class ClassifyOutcome:
    prediction: Prediction | None
    created: bool


def image_classify(*, image_id: int) -> ClassifyOutcome:
    """Classify one image with the active version and store the prediction.

    Idempotent: an image that already has a prediction from the active version is
    left alone. Raise PermanentClassificationError for an image that can never be
    classified; storage and database errors propagate for the caller to retry.
    """
    version = model_version_ensure_default()
    with transaction.atomic():
        image = (
            ProductImage.objects.select_for_update(of=("self",))
            .select_related("product")
            .filter(pk=image_id)
            .first()
        )
        if image is None:
            logger.info("image %s is gone; nothing to classify", image_id)
            return ClassifyOutcome(None, False)
        done = Prediction.objects.filter(image=image, model_version=version).first()
        if done and done.status != Prediction.Status.FAILED:
            ClassificationRequest.objects.filter(image=image).delete()
            return ClassifyOutcome(done, False)
        image_set_status(image=image, status=ImageStatus.PROCESSING)

    classifier = classifier_for(version)  # loaded once per process, not timed
    started = time.perf_counter()
    try:
        with default_storage.open(image.file.name, "rb") as stored:
            data = stored.read()
    except FileNotFoundError as error:
        raise PermanentClassificationError(
            "The stored image file is missing."
        ) from error
    try:
        decoded = decode_image(data, max_pixels=settings.VITRINE_UPLOAD_MAX_PIXELS)
    except ImageRejected as error:
        raise PermanentClassificationError(
            f"The stored file could not be decoded: {error.message}"
        ) from error
    result = classifier.predict([decoded.image], top_k=5)[0]
    latency_ms = (time.perf_counter() - started) * 1000.0
    return _prediction_store(
        image_id=image_id, version=version, result=result, latency_ms=latency_ms
    )


def prediction_auto_accepts(*, category, confidence: float | None, product) -> bool:
    """Tell whether a prediction may set the category without a reviewer.

    Confident enough for its category, and not against a category a merchant or
    a reviewer chose for the product.
    """
    return (
        category is not None
        and confidence is not None
        and confidence >= category.auto_accept_threshold
        and (
            product.category_source in ("", CategorySource.MODEL)
            or product.category_id == category.pk
        )
    )


@transaction.atomic
def _prediction_store(*, image_id, version, result, latency_ms) -> ClassifyOutcome:
    image = (
        ProductImage.objects.select_for_update(of=("self",))
        .select_related("product", "product__category")
        .get(pk=image_id)
    )
    # The outcome is stored below, in this transaction: nothing is owed then.
    ClassificationRequest.objects.filter(image=image).delete()
    done = Prediction.objects.filter(image=image, model_version=version).first()
    if done and done.status != Prediction.Status.FAILED:
        return ClassifyOutcome(done, False)
    categories = Category.objects.in_bulk(
        [label for label, _ in result.top_k], field_name="slug"
    )
    top_k = [
        {"category": label, "probability": round(float(p), 6)}
        for label, p in result.top_k
    ]
    best_slug, confidence = result.top_k[0]
    category = categories.get(best_slug)
    second = result.top_k[1][1] if len(result.top_k) > 1 else 0.0
    product = image.product
    auto = prediction_auto_accepts(
        category=category, confidence=confidence, product=product
    )
    Prediction.objects.filter(image=image, is_current=True).update(is_current=False)
    if done:  # a failed attempt with this version: replace it
        done.delete()
    prediction = Prediction.objects.create(
        image=image,
        model_version=version,
        category=category,
        confidence=float(confidence),
        margin=float(confidence - second),
        top_k=top_k,
        embedding=np.asarray(result.embedding, dtype=np.float32).tobytes(),
        latency_ms=latency_ms,
        status=Prediction.Status.AUTO_ACCEPTED
        if auto
        else Prediction.Status.NEEDS_REVIEW,
    )
    if auto and product.category_source != CategorySource.MERCHANT:
        product_set_category(
            product=product, category=category, source=CategorySource.MODEL
        )
    image_set_status(
        image=image, status=ImageStatus.CLASSIFIED if auto else ImageStatus.NEEDS_REVIEW
    )
    image_near_duplicates_find(image=image, embedding=result.embedding)
    signals.image_classified.send(sender=Prediction, prediction=prediction)
    logger.info(
        "image %s: %s at %.3f with %s (%.0f ms)",
        image.pk,
        best_slug,
        confidence,
        version.name,
        latency_ms,
    )
    return ClassifyOutcome(prediction, True)


@transaction.atomic
def prediction_record_failure(
    *, image_id: int, reason: str, transient: bool = False
) -> Prediction | None:
    """Record that the active version could not classify the image, and why.

    A permanent failure closes the image's classification request; a transient
    one leaves it for the dispatcher to send again (request_retry_later).
    """
    version = model_version_ensure_default()
    image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        return None
    if not transient:
        ClassificationRequest.objects.filter(image=image).delete()
    done = Prediction.objects.filter(image=image, model_version=version).first()
    if done and done.status != Prediction.Status.FAILED:
        return done
    Prediction.objects.filter(image=image, is_current=True).update(is_current=False)
    prediction, _ = Prediction.objects.update_or_create(
        image=image,
        model_version=version,
        defaults={
            "status": Prediction.Status.FAILED,
            "error": reason[:2000],
            "is_current": True,
            "top_k": [],
        },
    )
    image_set_status(image=image, status=ImageStatus.FAILED)
    logger.warning("image %s failed to classify: %s", image_id, reason)
    return prediction


@dataclass(frozen=True)
class UnsavedClassification:
    """What the active version says about an image that is not stored."""

    version: ModelVersion
    top_k: list[tuple[str, float]]
    latency_ms: float


def image_classify_unsaved(*, upload: UploadedFile) -> UnsavedClassification:
    """Classify an uploaded photo with the active version right away; store nothing.

    Raise ImageRejected for a file that uploads would refuse (too large, not a
    usable image). Runs the model in the calling process: the classifier is
    loaded once per process and cached.
    """
    data = upload_read(upload=upload)
    decoded = decode_image(
        data,
        max_pixels=settings.VITRINE_UPLOAD_MAX_PIXELS,
        max_decoded_bytes=settings.VITRINE_UPLOAD_MAX_DECODED_BYTES,
    )
    version = model_version_ensure_default()
    started = time.perf_counter()
    result = classifier_for(version).predict([decoded.image], top_k=5)[0]
    latency_ms = (time.perf_counter() - started) * 1000.0
    return UnsavedClassification(
        version=version,
        top_k=[(label, float(p)) for label, p in result.top_k],
        latency_ms=latency_ms,
    )
