"""One retry policy for the tasks that wrap a service.

:class:`TransientRetryTask` retries what may pass (the database or the object
store unreachable for a moment) with exponential backoff and jitter, at most
``max_retries`` times, as Celery's ``autoretry_for`` declares it. Anything else,
and a transient error after the last retry, fails the task; ``on_failure`` then
records the reason through the task's :meth:`~TransientRetryTask.record_failure`,
so nothing hangs in "processing".
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task
from django.conf import settings
from django.db import InterfaceError, OperationalError

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
# The defaults of VITRINE_TASK_MAX_RETRIES, VITRINE_TASK_RETRY_BACKOFF and
# VITRINE_TASK_RETRY_BACKOFF_MAX: 5, 10, 20, 40, 80 s (each drawn at random
# below that, so that the tasks a short outage failed do not all come back at
# once), never over 5 min.
MAX_RETRIES = 5


def is_transient(error: BaseException) -> bool:
    """Tell whether trying again later may succeed."""
    if isinstance(error, ClientError):
        # S3 answered: only its own trouble (5xx, throttling) is worth a retry.
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429
    return isinstance(error, TRANSIENT_ERRORS)


class TransientRetryTask(Task):
    """A task that retries transient errors and records any failure's reason."""

    autoretry_for = TRANSIENT_ERRORS
    retry_jitter = True
    # Failures not retried in the task that may still pass later (a time limit
    # on a loaded machine): recorded through record_gave_up too.
    worth_another_try: tuple[type[BaseException], ...] = ()
    acks_late = True
    reject_on_worker_lost = True

    # Settings, read when the worker binds the task (never at import).
    @property
    def max_retries(self) -> int:
        return settings.VITRINE_TASK_MAX_RETRIES

    @property
    def retry_backoff(self) -> int:
        return settings.VITRINE_TASK_RETRY_BACKOFF

    @property
    def retry_backoff_max(self) -> int:
        return settings.VITRINE_TASK_RETRY_BACKOFF_MAX

    def retry(self, *args, exc: BaseException | None = None, **kwargs):
        # autoretry_for matches by class; an S3 answer such as 403 is a
        # ClientError too, but no retry mends it: fail now.
        if exc is not None and not is_transient(exc):
            raise exc
        if exc is not None:
            logger.warning(
                "%s %s: transient error (%s); retry %s of %s",
                self.name,
                self.request.id,
                exc,
                self.request.retries + 1,
                self.max_retries,
            )
        return super().retry(*args, exc=exc, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        if is_transient(exc):
            reason = f"Gave up after {self.max_retries} retries: {exc}"
            self.record_gave_up(reason, *args, **kwargs)
        elif isinstance(exc, self.worth_another_try):
            self.record_gave_up(reason, *args, **kwargs)
        else:
            self.record_failure(reason, *args, **kwargs)

    def record_failure(self, reason: str, *args, **kwargs) -> None:
        """Record ``reason`` through the wrapped service; the task's arguments
        follow it. By default only logged."""
        logger.error("%s failed: %s", self.name, reason)

    def record_gave_up(self, reason: str, *args, **kwargs) -> None:
        """Record a transient error that outlasted every retry: by default as
        any failure; a task whose work is tried again later says so here."""
        self.record_failure(reason, *args, **kwargs)
