"""Celery tasks: thin adapters around classification services."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.db import InterfaceError, OperationalError

from classification.services import predictions

logger = logging.getLogger(__name__)

# Errors that may pass: storage or database unavailable for a moment.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    BotoCoreError,
    ClientError,
    ConnectionError,
    TimeoutError,
)
MAX_RETRIES = 5


def is_transient(error: Exception) -> bool:
    """Tell whether trying again later may succeed."""
    if isinstance(error, ClientError):
        # S3 answered: only its own trouble (5xx, throttling) is worth a retry.
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429
    return isinstance(error, TRANSIENT_ERRORS)


@shared_task(
    bind=True,
    name="classification.tasks.classify_image",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def classify_image(self, image_id: int) -> None:
    """Classify one image (service: image_classify)."""
    try:
        predictions.image_classify(image_id=image_id)
    except predictions.PermanentClassificationError as error:
        predictions.prediction_record_failure(image_id=image_id, reason=str(error))
    except TRANSIENT_ERRORS as error:
        if not is_transient(error):
            predictions.prediction_record_failure(
                image_id=image_id, reason=f"{type(error).__name__}: {error}"
            )
            return
        if self.request.retries >= MAX_RETRIES:
            predictions.prediction_record_failure(
                image_id=image_id,
                reason=f"Gave up after {MAX_RETRIES} retries: {error}",
            )
            return
        countdown = min(2**self.request.retries * 5, 300)
        logger.warning(
            "image %s: transient error (%s); retry in %s s", image_id, error, countdown
        )
        raise self.retry(exc=error, countdown=countdown) from error
    except Exception as error:
        # A bug or an unexpected input: record it so the image does not hang in
        # "processing", then let Celery log the traceback.
        predictions.prediction_record_failure(
            image_id=image_id, reason=f"{type(error).__name__}: {error}"
        )
        raise


# Training runs for minutes (Fashion-MNIST about ten, fine-tuning longer). It is
# acknowledged on receipt: redelivering an hour-long task after the broker's
# visibility timeout would start it twice, and a lost training is better
# restarted by a person, who sees it failed or stuck on its Job.
TRAINING_SOFT_TIME_LIMIT = 3 * 3600
TRAINING_TIME_LIMIT = TRAINING_SOFT_TIME_LIMIT + 120


@shared_task(
    name="classification.tasks.train_model_task",
    acks_late=False,
    soft_time_limit=TRAINING_SOFT_TIME_LIMIT,
    time_limit=TRAINING_TIME_LIMIT,
)
def train_model_task(job_id: int) -> None:
    """Train and register a model version for a job (service: training_job_run).

    Routed to the "training" queue by CELERY_TASK_ROUTES ("*train*").
    """
    from classification.services.training.jobs import training_job_run

    training_job_run(job_id=job_id)


@shared_task(
    bind=True,
    name="classification.tasks.reclassify_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=120,
    time_limit=180,
)
def reclassify_batch(self, job_id: int, after_id: int) -> None:
    """Classify one batch of a re-classification job, then queue the next
    (service: reclassify_batch_run)."""
    from classification.services import reclassification

    try:
        next_after = reclassification.reclassify_batch_run(
            job_id=job_id, after_id=after_id
        )
        # Run in-process (no broker), the batches loop here instead of nesting
        # one eager call in another for every batch.
        while self.request.is_eager and next_after is not None:
            next_after = reclassification.reclassify_batch_run(
                job_id=job_id, after_id=next_after
            )
    except TRANSIENT_ERRORS as error:
        if not is_transient(error) or self.request.retries >= MAX_RETRIES:
            reclassification.reclassify_job_fail(
                job_id=job_id, reason=f"{type(error).__name__}: {error}"
            )
            return
        countdown = min(2**self.request.retries * 5, 300)
        logger.warning("re-classification job %s: %s; retry", job_id, error)
        raise self.retry(exc=error, countdown=countdown) from error
    except Exception as error:
        reclassification.reclassify_job_fail(
            job_id=job_id, reason=f"{type(error).__name__}: {error}"
        )
        raise
    if next_after is not None:
        reclassify_batch.delay(job_id, next_after)


@shared_task(name="classification.tasks.requeue_stuck_images")
def requeue_stuck_images() -> int:
    """Queue again images stuck waiting or in classification (periodic, by beat;
    service: images_requeue_stuck)."""
    return predictions.images_requeue_stuck()
