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
