"""Every task is bounded in time; those that wrap a service share one retry policy."""

import pytest

from config.celery import app
from config.tasks import MAX_RETRIES, TRANSIENT_ERRORS

# Loading the task modules goes through Celery's Django fixup, which closes
# database connections.
pytestmark = pytest.mark.django_db


def project_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if "celery." not in name}


def test_every_task_declares_its_time_limits():
    tasks = project_tasks()
    assert "classification.tasks.classify_image" in tasks
    unbounded = [
        name
        for name, task in tasks.items()
        if not (task.soft_time_limit and task.time_limit)
        or task.soft_time_limit >= task.time_limit
    ]
    assert unbounded == []


def test_tasks_that_wrap_a_service_retry_transient_errors_with_backoff():
    tasks = project_tasks()
    for name in (
        "classification.tasks.classify_image",
        "classification.tasks.reclassify_batch",
    ):
        task = tasks[name]
        assert task.autoretry_for == TRANSIENT_ERRORS
        assert task.max_retries == MAX_RETRIES
        assert task.retry_backoff and task.retry_backoff_max and task.retry_jitter
