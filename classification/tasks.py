"""Celery tasks: thin adapters around classification services."""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings

from classification.services import dispatch, predictions, reclassification, shadow
from config.tasks import TransientRetryTask

logger = logging.getLogger(__name__)


class ClassifyImageTask(TransientRetryTask):
    # A photo that ran out of time (the model loading on a loaded host) is
    # dispatched again; the dispatcher's cap ends a photo that always does.
    worth_another_try = (SoftTimeLimitExceeded, TimeLimitExceeded)

    # One photo takes well under a second, the model's first load a few: past
    # VITRINE_CLASSIFY_TIME_LIMIT the task is dead, and the dispatcher sends the
    # photo again. Read when the worker starts.
    @property
    def time_limit(self) -> int:
        return settings.VITRINE_CLASSIFY_TIME_LIMIT

    @property
    def soft_time_limit(self) -> int:
        return settings.VITRINE_CLASSIFY_TIME_LIMIT * 2 // 3

    def record_failure(self, reason: str, image_id: int) -> None:
        predictions.prediction_record_failure(image_id=image_id, reason=reason)

    def record_gave_up(self, reason: str, image_id: int) -> None:
        # Failed, with the reason, and dispatched again after the backoff.
        predictions.prediction_record_failure(
            image_id=image_id, reason=reason, transient=True
        )
        dispatch.request_retry_later(image_id=image_id, reason=reason)


@shared_task(base=ClassifyImageTask, name="classification.tasks.classify_image")
def classify_image(image_id: int) -> None:
    """Classify one image (service: image_classify)."""
    try:
        predictions.image_classify(image_id=image_id)
    except predictions.PermanentClassificationError as error:
        # The image itself cannot be classified: an outcome, not a task failure.
        predictions.prediction_record_failure(image_id=image_id, reason=str(error))
    if shadow.model_version_shadow() is not None:
        # Its own task: a shadow run's failure never touches the real one.
        shadow_classify_image.delay(image_id)


@shared_task(
    base=TransientRetryTask,
    name="classification.tasks.shadow_classify_image",
    soft_time_limit=120,
    time_limit=180,
)
def shadow_classify_image(image_id: int) -> None:
    """Classify one image with the shadow version, acting on nothing (service:
    image_classify_shadow)."""
    shadow.image_classify_shadow(image_id=image_id)


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


class ReclassifyBatchTask(TransientRetryTask):
    def record_failure(self, reason: str, job_id: int, after_id: int) -> None:
        reclassification.reclassify_job_fail(job_id=job_id, reason=reason)


@shared_task(
    base=ReclassifyBatchTask,
    bind=True,
    name="classification.tasks.reclassify_batch",
    soft_time_limit=120,
    time_limit=180,
)
def reclassify_batch(self, job_id: int, after_id: int) -> None:
    """Classify one batch of a re-classification job, then queue the next
    (service: reclassify_batch_run)."""
    next_after = reclassification.reclassify_batch_run(job_id=job_id, after_id=after_id)
    # Run in-process (no broker), the batches loop here instead of nesting one
    # eager call in another for every batch.
    while self.request.is_eager and next_after is not None:
        next_after = reclassification.reclassify_batch_run(
            job_id=job_id, after_id=next_after
        )
    if next_after is not None:
        reclassify_batch.delay(job_id, next_after)


@shared_task(
    bind=True,
    name="classification.tasks.dispatch_classifications",
    soft_time_limit=60,
    time_limit=90,
)
def dispatch_classifications(self) -> int:
    """Note this worker's heartbeat, then hand the classifications owed to the
    broker (periodic, by beat; service: requests_dispatch). Return how many
    were sent."""
    dispatch.heartbeat_record(hostname=self.request.hostname or "unknown")
    return dispatch.requests_dispatch().sent
