"""Training jobs: a training asked for from the admin or the API, queued on the
training queue and run by a worker, with its progress and outcome on a Job."""

import logging
import time
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from classification.models import Job, ModelVersion
from classification.services.training.data import (
    training_data_confine,
    training_data_root,
)
from classification.services.training.params import TrainingParams
from classification.services.training.run import Progress, model_train

logger = logging.getLogger(__name__)

# Job progress is written at most this often, so a fast loop does not turn into
# a stream of UPDATEs.
PROGRESS_INTERVAL_SECONDS = 2.0


def training_job_start(*, params: Mapping[str, Any], user) -> Job:
    """Check ``params`` and queue a training job on the training queue.

    Raise TrainingError for invalid parameters; nothing is queued
    then. The task starts once the current transaction commits.
    """
    from classification.tasks import train_model_task

    # Jobs come from the admin and the API: their files must sit under the
    # configured root, so a request cannot make a worker read the server at large.
    clean = training_data_confine(
        params=TrainingParams.from_input(params), root=training_data_root()
    )
    job = Job.objects.create(
        kind=Job.Kind.TRAIN,
        params=clean.as_dict(),
        created_by=user if getattr(user, "pk", None) else None,
        message="Waiting for a training worker.",
    )
    job_id = job.pk
    transaction.on_commit(lambda: train_model_task.delay(job_id))
    return job


def training_job_run(*, job_id: int) -> Job | None:
    """Run a queued training job; record its version, or its failure and reason.

    Idempotent: a job that is not queued any more (running, finished) is left
    alone, so a duplicate delivery does not train twice.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return job
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.message = "Starting."
        job.save(update_fields=["status", "started_at", "message"])
    progress = _job_progress(job.pk)
    try:
        version = model_train(
            params=job.params,
            user=job.created_by,
            progress=progress,
            data_root=training_data_root(),
        )
    except Exception as error:
        reason = str(error) or type(error).__name__
        if not isinstance(error, ValueError | OSError):
            reason = f"{type(error).__name__}: {reason}"
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            message=reason[:2000],
            finished_at=timezone.now(),
        )
        logger.warning("training job %s failed: %s", job.pk, reason)
        if not isinstance(error, ValueError | OSError):
            raise
        job.refresh_from_db()
        return job
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        message=f"Registered {version.name}.",
        model_version=version,
        result={
            "version_id": version.pk,
            "version": version.name,
            **_headline(version),
        },
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def _job_progress(job_id: int) -> Progress:
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_SECONDS and fraction < 1:
            return
        last[0] = now
        Job.objects.filter(pk=job_id).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:500]
        )

    return report


def _headline(version: ModelVersion) -> dict[str, Any]:
    metrics = version.metrics or {}
    return {
        key: metrics.get(key)
        for key in ("accuracy", "macro_f1", "top2_accuracy", "ece", "measured_on")
        if key in metrics
    }
