"""Re-classification jobs: the catalog's images classified again with the
active version, in bounded batches, counting what changed."""

import logging

from django.db import transaction
from django.utils import timezone

from catalog.models import ImageStatus, ProductImage
from catalog.services import image_set_status
from classification.models import Job, ModelVersion, Prediction
from classification.services.predictions import (
    PermanentClassificationError,
    image_classify,
    prediction_record_failure,
)
from classification.services.versions import model_version_ensure_default

logger = logging.getLogger(__name__)

# Images per reclassify_batch task. Each costs about 50 ms of inference plus its
# decoding on two cores, so a batch takes a few seconds: far inside the task's
# time limit, and short enough that a worker returns to other work often.
RECLASSIFY_BATCH_SIZE = 50


def _reclassify_queryset(*, version: ModelVersion, only_unseen: bool):
    images = ProductImage.objects.all()
    if only_unseen:
        seen = Prediction.objects.filter(model_version=version).exclude(
            status__in=Prediction.NOT_DONE
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
        message=f"{total} photos to classify with {version.name}.",
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
            .exclude(status__in=Prediction.NOT_DONE)
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
            f"{result['processed']} photos done, {result['changed']} changed, "
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
