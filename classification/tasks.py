"""Celery tasks: thin adapters around classification services."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.db import DatabaseError

from classification.services import predictions

logger = logging.getLogger(__name__)

# Errors that may pass: storage or database unavailable for a moment.
TRANSIENT_ERRORS = (
    DatabaseError,
    BotoCoreError,
    ClientError,
    ConnectionError,
    TimeoutError,
)
MAX_RETRIES = 5


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
