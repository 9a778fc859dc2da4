"""Writes for model versions: register, activate, and load for inference.

With ``predictions``, the only code that joins the plain-PyTorch package
``classification.ml`` to the ORM and storage. Torch is imported lazily so web
processes stay light.
"""

import hashlib
import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Category, ImageStatus, ProductImage
from catalog.services import image_set_status
from classification.models import Job, ModelVersion, Prediction

logger = logging.getLogger(__name__)

DEFAULT_VERSION_NAME = "imagenet-taxonomy-v1"


def model_version_register(
    *,
    name: str,
    artifact: dict,
    metrics: dict | None = None,
    training: dict | None = None,
    created_by=None,
) -> ModelVersion:
    """Store an artifact (written once, under its checksum) and record a version."""
    from classification.ml.artifacts import artifact_to_bytes

    data = artifact_to_bytes(artifact)
    checksum = hashlib.sha256(data).hexdigest()
    key = f"models/{checksum}.pt"
    if not default_storage.exists(key):
        default_storage.save(key, ContentFile(data))
    return ModelVersion.objects.create(
        name=name,
        architecture=artifact["architecture"],
        classes=list(artifact["classes"]),
        artifact=key,
        checksum=checksum,
        preprocessing=artifact["preprocessing"],
        metrics=metrics or {},
        training=training or {},
        created_by=created_by,
    )


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make ``version`` the only active one; workers switch on their next task.

    Calibrated thresholds travel with the version (see _thresholds_apply).
    Activating the active version changes nothing.
    """
    if (
        ModelVersion.objects.select_for_update()
        .filter(pk=version.pk, status=ModelVersion.Status.ACTIVE)
        .exists()
    ):
        version.refresh_from_db()
        return version
    outgoing = list(
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.ACTIVE)
        .exclude(pk=version.pk)
    )
    ModelVersion.objects.filter(pk__in=[v.pk for v in outgoing]).update(
        status=ModelVersion.Status.RETIRED
    )
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    _thresholds_apply(version=version, outgoing=outgoing[0] if outgoing else None)
    return version


def _calibrated_thresholds(version: ModelVersion | None) -> dict[str, float]:
    per_class = ((version.metrics or {}) if version else {}).get("thresholds", {})
    return {
        slug: min(max(float(entry["threshold"]), 0.0), 1.0)
        for slug, entry in per_class.get("per_class", {}).items()
        if isinstance(entry, dict) and entry.get("threshold") is not None
    }


def _thresholds_apply(*, version: ModelVersion, outgoing: ModelVersion | None) -> None:
    """Set the categories' auto-accept thresholds for the newly active version.

    ``Category.auto_accept_threshold`` is the live value predictions are judged
    by, and staff may edit it. A version trained here carries per-category
    thresholds chosen on its validation split for the target precision
    (``metrics["thresholds"]``): activating it copies them onto its categories
    (with VITRINE_APPLY_CALIBRATED_THRESHOLDS, on by default). The values staff
    had set before any calibrated version took over are kept in the version's
    ``training["replaced_thresholds"]`` and handed from one calibrated version to
    the next; they come back for categories the new version has no calibrated
    value for, and for all of them when a version without calibration (the
    ImageNet default) is activated, so a roll-back restores what staff had set.
    """
    if not getattr(settings, "VITRINE_APPLY_CALIBRATED_THRESHOLDS", True):
        return
    calibrated = _calibrated_thresholds(version)
    handed_over = (
        dict((outgoing.training or {}).get("replaced_thresholds", {}))
        if _calibrated_thresholds(outgoing)
        else {}
    )
    if calibrated:
        current = dict(
            Category.objects.filter(slug__in=calibrated).values_list(
                "slug", "auto_accept_threshold"
            )
        )
        baseline = {
            **{s: t for s, t in current.items() if s not in handed_over},
            **handed_over,
        }
        version.training = {**(version.training or {}), "replaced_thresholds": baseline}
        version.save(update_fields=["training"])
        targets = {
            **{s: t for s, t in baseline.items() if s not in calibrated},
            **calibrated,
        }
    else:
        targets = handed_over
    changed = []
    for category in Category.objects.filter(slug__in=targets):
        category.auto_accept_threshold = targets[category.slug]
        changed.append(category)
    Category.objects.bulk_update(changed, ["auto_accept_threshold"])
    if changed:
        logger.info(
            "%s: auto-accept thresholds set for %s categories", version, len(changed)
        )


def model_version_rollback(*, user=None) -> ModelVersion:
    """Activate again the version that was active before the current one.

    Raise ValueError when no other version was ever active.
    """
    with transaction.atomic():
        current = (
            ModelVersion.objects.select_for_update()
            .filter(status=ModelVersion.Status.ACTIVE)
            .first()
        )
        previous = (
            ModelVersion.objects.filter(activated_at__isnull=False)
            .exclude(pk=getattr(current, "pk", None))
            .order_by("-activated_at", "-pk")
            .first()
        )
        if previous is None:
            raise ValueError("No earlier version was active; nothing to roll back to.")
        version = model_version_activate(version=previous)
    logger.info(
        "rolled back from %s to %s (by %s)", current, version, user or "a command"
    )
    return version


def model_version_ensure_default() -> ModelVersion:
    """Return the active version, registering the ImageNet-mapped one if none is.

    The default version maps the pretrained backbone's ImageNet classes onto the
    default taxonomy, so a new install sorts real photos before any training.
    """
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active:
        return active
    from classification.ml.efficientnet import default_artifact
    from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES

    existing = set(Category.objects.values_list("slug", flat=True))
    slugs = [slug for slug in TAXONOMY_IMAGENET_CLASSES if slug in existing]
    if not slugs:
        raise ImproperlyConfigured(
            "No category of the default taxonomy exists, so the default model has "
            "nothing to predict: run `manage.py migrate`, or train and activate a "
            "model for your own categories."
        )
    version = ModelVersion.objects.filter(name=DEFAULT_VERSION_NAME).first()
    try:
        with transaction.atomic():
            if version is None:
                version = model_version_register(
                    name=DEFAULT_VERSION_NAME,
                    artifact=default_artifact(slugs),
                    training={"source": "ImageNet-1k classes mapped onto the taxonomy"},
                )
            return model_version_activate(version=version)
    except IntegrityError:
        # Another process registered or activated one at the same moment.
        return ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)


def classifier_for(version: ModelVersion):
    """Return the loaded classifier of ``version``, cached once per process."""
    from classification.ml.registry import get_classifier

    if settings.VITRINE_INFERENCE_THREADS:
        # Several worker processes on one host should not each take every core.
        import torch

        torch.set_num_threads(settings.VITRINE_INFERENCE_THREADS)

    def load() -> bytes:
        with default_storage.open(version.artifact.name, "rb") as artifact:
            return artifact.read()

    return get_classifier(str(version.pk), load, version.checksum)


# --- Re-classification --------------------------------------------------------

# Images per reclassify_batch task. Each costs about 50 ms of inference plus its
# decoding on two cores, so a batch takes a few seconds: far inside the task's
# time limit, and short enough that a worker returns to other work often.
RECLASSIFY_BATCH_SIZE = 50


def _reclassify_queryset(*, version: ModelVersion, only_unseen: bool):
    images = ProductImage.objects.all()
    if only_unseen:
        seen = Prediction.objects.filter(model_version=version).exclude(
            status=Prediction.Status.FAILED
        )
        images = images.exclude(pk__in=seen.values("image_id"))
    return images.order_by("pk")


def reclassify_job_start(*, only_unseen: bool, user) -> Job:
    """Queue a job that classifies the catalog's images with the active version.

    ``only_unseen``: only images the active version has not classified (or
    failed on). Otherwise every image: those the version has seen already get
    its prediction back as their current one (the model is deterministic, so
    running it again would give the same answer). The job works in bounded
    batches and counts the images whose predicted category changed.
    """
    from classification.tasks import reclassify_batch

    version = model_version_ensure_default()
    total = _reclassify_queryset(version=version, only_unseen=only_unseen).count()
    job = Job.objects.create(
        kind=Job.Kind.RECLASSIFY,
        params={"only_unseen": bool(only_unseen)},
        model_version=version,
        created_by=user if getattr(user, "pk", None) else None,
        result={
            "total": total,
            "processed": 0,
            "changed": 0,
            "unchanged": 0,
            "new": 0,
            "restored": 0,
            "failed": 0,
            "after_id": 0,
        },
        message=f"{total} images to classify with {version.name}.",
    )
    job_id = job.pk
    transaction.on_commit(lambda: reclassify_batch.delay(job_id, 0))
    return job


def reclassify_batch_run(*, job_id: int, after_id: int) -> int | None:
    """Classify the next batch of a re-classification job's images.

    Return the id to continue after, or None when the job is finished (or was
    finished already, or this batch was run before: the job's cursor must equal
    ``after_id``, so a duplicate delivery does nothing).
    """
    from classification.services.predictions import (
        PermanentClassificationError,
        image_classify,
        prediction_record_failure,
    )

    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return None
        if job.result.get("after_id", 0) != after_id:
            return None
        if job.status == Job.Status.QUEUED:
            job.status, job.started_at = Job.Status.RUNNING, timezone.now()
            job.save(update_fields=["status", "started_at"])
    version = job.model_version
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if version is None or active is None or active.pk != version.pk:
        reclassify_job_fail(
            job_id=job_id,
            reason="The active version changed while the job ran; start a new one.",
        )
        return None
    ids = list(
        _reclassify_queryset(
            version=version, only_unseen=job.params.get("only_unseen", True)
        )
        .filter(pk__gt=after_id)
        .values_list("pk", flat=True)[:RECLASSIFY_BATCH_SIZE]
    )
    counts = dict.fromkeys(("changed", "unchanged", "new", "restored", "failed"), 0)
    for image_id in ids:
        before = (
            Prediction.objects.filter(image_id=image_id, is_current=True)
            .values_list("pk", "category_id", "model_version_id")
            .first()
        )
        mine = (
            Prediction.objects.filter(image_id=image_id, model_version=version)
            .exclude(status=Prediction.Status.FAILED)
            .values_list("pk", "category_id")
            .first()
        )
        if mine is not None:
            if before and before[0] == mine[0]:
                counts["unchanged"] += 1
                continue
            _prediction_make_current(image_id=image_id, prediction_id=mine[0])
            counts["restored"] += 1
            after_category = mine[1]
        else:
            try:
                outcome = image_classify(image_id=image_id)
            except PermanentClassificationError as error:
                prediction_record_failure(image_id=image_id, reason=str(error))
                counts["failed"] += 1
                continue
            if outcome.prediction is None:  # deleted meanwhile
                continue
            after_category = outcome.prediction.category_id
        if before is None:
            counts["new"] += 1
        elif before[1] != after_category:
            counts["changed"] += 1
        else:
            counts["unchanged"] += 1
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        result = dict(job.result)
        for key, value in counts.items():
            result[key] = result.get(key, 0) + value
        result["processed"] = result.get("processed", 0) + len(ids)
        done = len(ids) < RECLASSIFY_BATCH_SIZE
        result["after_id"] = ids[-1] if ids else after_id
        job.result = result
        total = max(result.get("total", 0), result["processed"], 1)
        job.progress = 1.0 if done else round(result["processed"] / total, 4)
        job.message = (
            f"{result['processed']} images done, {result['changed']} changed, "
            f"{result['failed']} failed."
        )
        if done:
            job.status, job.finished_at = Job.Status.SUCCEEDED, timezone.now()
        job.save(
            update_fields=["result", "progress", "message", "status", "finished_at"]
        )
    return None if done else result["after_id"]


def reclassify_job_fail(*, job_id: int, reason: str) -> None:
    """Record that a re-classification job stopped, and why."""
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(
        status=Job.Status.FAILED, message=reason[:2000], finished_at=timezone.now()
    )
    logger.warning("re-classification job %s failed: %s", job_id, reason)


_STATUS_FOR_PREDICTION = {
    Prediction.Status.AUTO_ACCEPTED: ImageStatus.CLASSIFIED,
    Prediction.Status.NEEDS_REVIEW: ImageStatus.NEEDS_REVIEW,
    Prediction.Status.ACCEPTED: ImageStatus.REVIEWED,
    Prediction.Status.CORRECTED: ImageStatus.REVIEWED,
    Prediction.Status.FAILED: ImageStatus.FAILED,
}


@transaction.atomic
def _prediction_make_current(*, image_id: int, prediction_id: int) -> None:
    """Make an earlier prediction the image's current one again.

    The product's category is left as it is: it may have been set by a reviewer
    or the merchant since, and those choices outrank any model.
    """
    image = ProductImage.objects.select_for_update().filter(pk=image_id).first()
    if image is None:
        return
    Prediction.objects.filter(image=image, is_current=True).update(is_current=False)
    prediction = Prediction.objects.get(pk=prediction_id)
    prediction.is_current = True
    prediction.save(update_fields=["is_current"])
    image_set_status(image=image, status=_STATUS_FOR_PREDICTION[prediction.status])
