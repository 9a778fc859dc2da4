"""Writes for predictions: classify an image, record a failure, re-queue.

Torch is imported lazily (through the versions service) so web processes stay light.
"""

import json
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from catalog.models import Category, ImageStatus, ProductImage
from catalog.services import image_set_status, upload_read
from classification import signals
from classification.models import (
    ClassificationRequest,
    ModelVersion,
    Prediction,
    ReviewReason,
)
from classification.services.duplicates import image_near_duplicates_find
from classification.services.product_category import products_decide
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
        if done and done.status not in Prediction.NOT_DONE:
            ClassificationRequest.objects.filter(image=image).delete()
            return ClassifyOutcome(done, False)
        image_set_status(image=image, status=ImageStatus.PROCESSING)

    known = _result_for_same_bytes(image=image, version=version)
    if known is not None:
        result, latency_ms = known
        return _prediction_store(
            image_id=image_id,
            version=version,
            result=result,
            latency_ms=latency_ms,
            stages={"reused": 0.0},
        )
    classifier = classifier_for(version)  # loaded once per process, not timed
    started = time.perf_counter()
    try:
        with default_storage.open(image.file.name, "rb") as stored:
            data = stored.read()
    except FileNotFoundError as error:
        raise PermanentClassificationError(
            "The stored image file is missing."
        ) from error
    read = time.perf_counter()
    try:
        decoded = decode_image(
            data,
            max_pixels=settings.VITRINE_UPLOAD_MAX_PIXELS,
            min_side=classifier.decode_min_side,
        )
    except ImageRejected as error:
        raise PermanentClassificationError(
            f"The stored file could not be decoded: {error.message}"
        ) from error
    decoded_at = time.perf_counter()
    result = classifier.predict([decoded.image], top_k=5)[0]
    done = time.perf_counter()
    stages = {
        "read": (read - started) * 1000,
        "decode": (decoded_at - read) * 1000,
        "network": (done - decoded_at) * 1000,
    }
    return _prediction_store(
        image_id=image_id,
        version=version,
        result=result,
        latency_ms=(done - started) * 1000.0,
        stages=stages,
    )


@dataclass(frozen=True)
class _KnownResult:
    """A stored prediction's result, shaped as the classifier's (ImageResult)."""

    top_k: list[tuple[str, float]]
    embedding: np.ndarray


def _result_for_same_bytes(
    *, image: ProductImage, version: ModelVersion
) -> tuple[_KnownResult, float] | None:
    """What ``version`` said about the same bytes on another of the merchant's
    products (a photo variants share), and its latency: the model runs once per
    stored picture, each product then decides on its own category."""
    known = (
        Prediction.objects.filter(
            image__merchant_id=image.merchant_id,
            image__sha256=image.sha256,
            model_version=version,
        )
        .exclude(image_id=image.pk)
        .exclude(status=Prediction.Status.FAILED)
        .exclude(embedding__isnull=True)
        .order_by("pk")
        .first()
    )
    if known is None or not known.top_k:
        return None
    result = _KnownResult(
        top_k=[(entry["category"], entry["probability"]) for entry in known.top_k],
        embedding=np.frombuffer(bytes(known.embedding), dtype=np.float32),
    )
    return result, known.latency_ms or 0.0


@transaction.atomic
def _prediction_store(
    *, image_id, version, result, latency_ms, stages
) -> ClassifyOutcome:
    started = time.perf_counter()
    image = (
        ProductImage.objects.select_for_update(of=("self",))
        .select_related("product", "product__category")
        .get(pk=image_id)
    )
    # The outcome is stored below, in this transaction: nothing is owed then.
    ClassificationRequest.objects.filter(image=image).delete()
    done = Prediction.objects.filter(image=image, model_version=version).first()
    if done and done.status not in Prediction.NOT_DONE:
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
    Prediction.objects.filter(image=image, is_current=True).update(is_current=False)
    if done:  # a failed attempt or a shadow prediction: replace it
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
        # Until the product's photos decide together, just below.
        status=Prediction.Status.NEEDS_REVIEW,
        review_reason=ReviewReason.LOW_CONFIDENCE,
    )
    image_set_status(image=image, status=ImageStatus.NEEDS_REVIEW)
    products_decide(product_ids=[image.product_id])
    prediction.refresh_from_db(fields=["status", "review_reason"])
    image.refresh_from_db(fields=["status", "status_changed_at"])
    stored = time.perf_counter()
    image_near_duplicates_find(image=image, embedding=result.embedding)
    signals.image_classified.send(sender=Prediction, prediction=prediction)
    stages = {
        **stages,
        "store": (stored - started) * 1000,
        "near_duplicates": (time.perf_counter() - stored) * 1000,
    }
    logger.info(
        "image %s: %s at %.3f with %s (%.0f ms); stages (ms): %s",
        image.pk,
        best_slug,
        confidence,
        version.name,
        latency_ms,
        json.dumps({name: round(ms, 1) for name, ms in stages.items()}),
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
    if done and done.status not in Prediction.NOT_DONE:
        return done
    Prediction.objects.filter(image=image, is_current=True).update(is_current=False)
    prediction, _ = Prediction.objects.update_or_create(
        image=image,
        model_version=version,
        defaults={
            "status": Prediction.Status.FAILED,
            "review_reason": ReviewReason.FAILED,
            "error": reason[:2000],
            "is_current": True,
            "top_k": [],
        },
    )
    image_set_status(image=image, status=ImageStatus.FAILED)
    # The photo's earlier prediction may have voted for the product's category.
    products_decide(product_ids=[image.product_id])
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
