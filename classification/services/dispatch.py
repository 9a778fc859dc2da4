"""The outbox of classification: what is owed is written down, then dispatched.

An upload writes a :class:`~classification.models.ClassificationRequest` in the
transaction that stores its photo, so a committed upload always leaves its
intent behind, whatever the broker's state. Two hands give it to the broker:
the upload itself once it commits (when the broker answers), and the periodic
upkeep (``requests_dispatch``, run by beat with the worker), which also sends
again what came to no outcome:

- a photo dispatched whose message is gone (a broker restarted empty) or whose
  worker died before acknowledging it, once nothing waits in the inference queue
  (a backlog there may still hold its message) or, for a photo "processing",
  once ``VITRINE_CLASSIFY_TIME_LIMIT`` (classify_image's hard limit) has
  passed since it started;
- a photo failed for a transient reason (storage down past the task's retries).

Each of these is sent again after ``VITRINE_DISPATCH_RETRY_SECONDS``, doubling
up to ``VITRINE_DISPATCH_RETRY_MAX_SECONDS``; after
``VITRINE_DISPATCH_MAX_ATTEMPTS`` dispatches the photo fails with that reason
(a permanent one: someone must look). A dispatch the broker refused counts for
nothing and is due again at the next upkeep. The task removes the request once
the image has a prediction or a permanent failure; classify_image is idempotent,
so a second message for one photo costs one no-op.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from catalog.models import ImageStatus, ProductImage
from classification.models import ClassificationRequest, WorkerHeartbeat
from classification.services.predictions import prediction_record_failure
from config.celery import app, queue_depths

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 500
OUTCOMES = (ImageStatus.CLASSIFIED, ImageStatus.NEEDS_REVIEW, ImageStatus.REVIEWED)


@dataclass(frozen=True)
class DispatchOutcome:
    sent: int = 0
    postponed: int = 0
    given_up: int = 0
    broker_down: bool = False


def retry_delay(dispatches: int) -> timedelta:
    """How long after its ``dispatches``-th dispatch a request is due again."""
    base = settings.VITRINE_DISPATCH_RETRY_SECONDS
    seconds = base * 2 ** max(dispatches - 1, 0)
    return timedelta(seconds=min(seconds, settings.VITRINE_DISPATCH_RETRY_MAX_SECONDS))


def requests_open(*, image_ids: Iterable[int]) -> None:
    """Write down, in the current transaction, that the images are owed a
    classification, and dispatch them once it commits."""
    ids = list(image_ids)
    if ids:
        _requests_write(image_ids=ids)
        on_commit_dispatch(image_ids=ids)


def _requests_write(*, image_ids: list[int]) -> None:
    """A request due now for each image, never dispatched (an earlier one for
    the same image starts again)."""
    now = timezone.now()
    ClassificationRequest.objects.bulk_create(
        [ClassificationRequest(image_id=pk, due_at=now) for pk in image_ids],
        update_conflicts=True,
        unique_fields=["image"],
        update_fields=["due_at", "dispatches", "dispatched_at", "last_error"],
    )


def requests_owed(*, image_ids: Iterable[int]) -> list[int]:
    """Of the images, those still owed a classification and never handed to
    the broker (an upload retried after the broker refused its first try)."""
    return list(
        ClassificationRequest.objects.filter(
            image_id__in=list(image_ids), dispatches=0
        ).values_list("image_id", flat=True)
    )


def on_commit_dispatch(*, image_ids: list[int]) -> None:
    """Dispatch the images' requests once the current transaction commits; a
    broker that does not answer is logged, never raised to the caller."""
    transaction.on_commit(
        lambda: requests_dispatch(image_ids=image_ids, fresh_only=True), robust=True
    )


@transaction.atomic
def request_retry_later(*, image_id: int, reason: str) -> None:
    """The image failed for a transient reason: due again after the backoff."""
    request = (
        ClassificationRequest.objects.select_for_update()
        .filter(image_id=image_id)
        .first()
    )
    if request is None:
        if not ProductImage.objects.filter(pk=image_id).exists():
            return  # deleted meanwhile: nothing is owed
        request = ClassificationRequest(image_id=image_id, dispatches=1)
    request.due_at = timezone.now() + retry_delay(request.dispatches)
    request.last_error = reason[:2000]
    request.save()


def requests_dispatch(
    *, image_ids: list[int] | None = None, fresh_only: bool = False
) -> DispatchOutcome:
    """Hand the due requests to the broker (see the module's docstring).

    ``image_ids`` limits it to those images; ``fresh_only`` to requests never
    dispatched (the upload's own dispatch on commit).
    """
    # Deferred: the tasks module imports the services its tasks call.
    from classification.tasks import classify_image

    now = timezone.now()
    claimed, postponed, given_up = _claim(
        now=now, image_ids=image_ids, fresh_only=fresh_only
    )
    sent = 0
    for index, request in enumerate(claimed):
        try:
            classify_image.delay(request.image_id)
        except BrokerError as error:
            # The broker is away: what is not sent is due again at once, and
            # counts for nothing.
            _unclaim(claimed[index:], error=error)
            logger.warning(
                "broker unreachable (%s): %s classification(s) wait in the outbox",
                error,
                len(claimed) - index,
            )
            return DispatchOutcome(sent, postponed, given_up, broker_down=True)
        sent += 1
    if sent or given_up:
        logger.info(
            "dispatched %s classification(s); %s postponed, %s given up",
            sent,
            postponed,
            given_up,
        )
    return DispatchOutcome(sent, postponed, given_up)


def _queue_busy() -> bool:
    """Do messages wait in the inference queue? (False without a broker.)"""
    if app.conf.task_always_eager:
        return False

    try:
        return queue_depths()["inference"] > 0
    except Exception as error:  # the broker's own errors vary by transport
        logger.warning("could not read the queue depths: %s", error)
        return True


@transaction.atomic
def _claim(*, now: datetime, image_ids, fresh_only):
    """Pick the due requests, lock them, and move each one's due time on.

    Return the requests to send, and how many were postponed and given up."""
    due = (
        ClassificationRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("image")
        .filter(due_at__lte=now)
    )
    if image_ids is not None:
        due = due.filter(image_id__in=image_ids)
    if fresh_only:
        due = due.filter(dispatches=0)
    due = list(due.order_by("due_at", "id")[:DISPATCH_BATCH])
    busy = None
    claimed, postponed, given_up = [], 0, 0
    for request in due:
        image = request.image
        if image.status in OUTCOMES:
            request.delete()  # its task finished; nothing is owed
            continue
        if request.dispatches and image.status != ImageStatus.FAILED:
            # Sent before and no outcome yet: is it lost, or still on its way?
            if image.status == ImageStatus.PROCESSING:
                started = image.status_changed_at
                # Past classify_image's hard limit no task is alive any more.
                limit = timedelta(seconds=settings.VITRINE_CLASSIFY_TIME_LIMIT)
                if now - started < limit:
                    request.due_at = started + limit
                    request.save(update_fields=["due_at"])
                    postponed += 1
                    continue
            else:
                busy = _queue_busy() if busy is None else busy
                if busy:
                    request.due_at = now + retry_delay(1)
                    request.save(update_fields=["due_at"])
                    postponed += 1
                    continue
        if request.dispatches >= settings.VITRINE_DISPATCH_MAX_ATTEMPTS:
            _give_up(request)
            given_up += 1
            continue
        request.dispatches += 1
        request.dispatched_at = now
        request.due_at = now + retry_delay(request.dispatches)
        request.save(update_fields=["dispatches", "dispatched_at", "due_at"])
        claimed.append(request)
    return claimed, postponed, given_up


def _unclaim(requests: list[ClassificationRequest], *, error: Exception) -> None:
    now = timezone.now()
    for request in requests:
        ClassificationRequest.objects.filter(pk=request.pk).update(
            dispatches=request.dispatches - 1,
            due_at=now,
            last_error=f"Broker unreachable: {error}"[:2000],
        )


def _give_up(request: ClassificationRequest) -> None:
    reason = (
        f"Not classified after {request.dispatches} dispatches"
        + (f"; last error: {request.last_error}" if request.last_error else "")
        + "."
    )
    prediction_record_failure(image_id=request.image_id, reason=reason)


def images_requeue_stuck(*, older_than_seconds: int | None = None) -> int:
    """Queue again images left pending or processing too long, now, whatever
    their request's schedule (``manage.py requeue_stuck``: a person asks).

    Return how many were queued. Classification is idempotent, so queuing an image
    whose task is in fact still alive costs one extra no-op task. A queued image's
    clock starts again, so a long backlog is not queued once more on every run.
    """
    age = older_than_seconds
    if age is None:
        age = settings.VITRINE_STUCK_AFTER_SECONDS
    cutoff = timezone.now() - timedelta(seconds=age)
    with transaction.atomic():
        ids = list(
            ProductImage.objects.filter(
                status__in=[ImageStatus.PENDING, ImageStatus.PROCESSING],
                status_changed_at__lt=cutoff,
            ).values_list("pk", flat=True)
        )
        ProductImage.objects.filter(pk__in=ids).update(status_changed_at=timezone.now())
        _requests_write(image_ids=ids)
    requests_dispatch(image_ids=ids)
    return len(ids)


def heartbeat_record(*, hostname: str) -> None:
    """Note that a worker ran the upkeep just now (health reads it)."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname[:255], defaults={"seen_at": timezone.now()}
    )
    # Hosts gone for a day are forgotten.
    WorkerHeartbeat.objects.filter(
        seen_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
