"""Shadow mode: a candidate version classifies new uploads beside the active one
without acting.

A shadow prediction is a second prediction of the photo (status ``shadow``): it
is never current, never sets a category, never changes the photo's status,
never joins the review queue and sends no signal. Comparing it with the active
version's is ``classification.evidence.shadow_comparison``. At most one version
is in shadow at a time (a database constraint); activating it ends the shadow
(its status becomes active) and its shadow predictions are replaced as it
classifies those photos for real.
"""

import logging
import time

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from catalog.models import Category, ProductImage
from classification.models import ModelVersion, Prediction
from classification.services.versions import classifier_for
from config.errors import Conflict
from imaging.decode import decode_image
from imaging.errors import ImageRejected

logger = logging.getLogger(__name__)


class ShadowError(Conflict):
    """The version cannot run in shadow (it is the active one)."""


def model_version_shadow(*, version: ModelVersion | None = None) -> ModelVersion | None:
    """The version in shadow now, if any (``version``: whether it is that one)."""
    shadow = ModelVersion.objects.filter(status=ModelVersion.Status.SHADOW).first()
    if version is not None and shadow is not None and shadow.pk != version.pk:
        return None
    return shadow


@transaction.atomic
def model_version_shadow_start(*, version: ModelVersion) -> ModelVersion:
    """Run ``version`` in shadow on new uploads (another shadow version stops)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == ModelVersion.Status.ACTIVE:
        raise ShadowError("The active version cannot also run in shadow.")
    if version.status == ModelVersion.Status.SHADOW:
        return version
    ModelVersion.objects.filter(status=ModelVersion.Status.SHADOW).update(
        status=ModelVersion.Status.READY
    )
    version.status = ModelVersion.Status.SHADOW
    version.save(update_fields=["status"])
    logger.info("%s runs in shadow", version)
    return version


@transaction.atomic
def model_version_shadow_stop(*, version: ModelVersion) -> ModelVersion:
    """Stop the shadow run of ``version``; its shadow predictions stay."""
    ModelVersion.objects.filter(
        pk=version.pk, status=ModelVersion.Status.SHADOW
    ).update(status=ModelVersion.Status.READY)
    version.refresh_from_db()
    return version


def image_classify_shadow(*, image_id: int) -> Prediction | None:
    """Classify the image with the shadow version, if one runs; act on nothing.

    Idempotent per image and version; an image the version already predicted
    (in shadow or for real) is left alone. A file that cannot be read or decoded
    is skipped (the active version records that failure).
    """
    version = model_version_shadow()
    if version is None:
        return None
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:
        return None
    done = Prediction.objects.filter(image=image, model_version=version).first()
    if done is not None:
        return done
    try:
        with default_storage.open(image.file.name, "rb") as stored:
            data = stored.read()
        decoded = decode_image(data, max_pixels=settings.VITRINE_UPLOAD_MAX_PIXELS)
    except (FileNotFoundError, ImageRejected) as error:
        logger.info("shadow %s skips image %s: %s", version, image_id, error)
        return None
    classifier = classifier_for(version)
    started = time.perf_counter()
    result = classifier.predict([decoded.image], top_k=5)[0]
    latency_ms = (time.perf_counter() - started) * 1000.0
    best_slug, confidence = result.top_k[0]
    second = result.top_k[1][1] if len(result.top_k) > 1 else 0.0
    prediction, _ = Prediction.objects.get_or_create(
        image=image,
        model_version=version,
        defaults={
            "category": Category.objects.filter(slug=best_slug).first(),
            "confidence": float(confidence),
            "margin": float(confidence - second),
            "top_k": [
                {"category": label, "probability": round(float(p), 6)}
                for label, p in result.top_k
            ],
            "embedding": np.asarray(result.embedding, dtype=np.float32).tobytes(),
            "latency_ms": latency_ms,
            "status": Prediction.Status.SHADOW,
            "is_current": False,
        },
    )
    return prediction
