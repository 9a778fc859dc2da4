"""/health/ and /health/ready/ see the pipeline: queue depths, photos waiting
and the oldest one's age, the last worker heartbeat; photos waiting past the
threshold with no live worker make both answer 503."""

from datetime import timedelta

import pytest
from django.utils import timezone

from classification.models import ClassificationRequest, WorkerHeartbeat
from classification.services.dispatch import requests_dispatch
from tests.classification.factories import ProductImageFactory

pytestmark = pytest.mark.django_db

PATHS = ["/health/", "/health/ready/"]


@pytest.fixture
def waiting_ten_minutes(merchant, broker):
    """A photo owed a classification for ten minutes, its message in the queue."""
    broker.up()
    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(image=image, due_at=timezone.now())
    assert requests_dispatch().sent == 1
    ClassificationRequest.objects.update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    return image


@pytest.mark.parametrize("path", PATHS)
def test_photos_waiting_with_no_live_worker_fail_health(
    admin_client, waiting_ten_minutes, settings, path
):
    settings.VITRINE_READY_MAX_WAIT_SECONDS = 300
    response = admin_client.get(path)

    assert response.status_code == 503
    pipeline = response.json()["checks"]["pipeline"]
    assert pipeline["ok"] is False
    assert pipeline["stalled"] is True
    assert pipeline["waiting"] == 1
    assert pipeline["oldest_waiting_seconds"] >= 600
    assert pipeline["worker_alive"] is False
    assert pipeline["worker_seen_seconds_ago"] is None
    assert pipeline["queues"] == {"default": 0, "inference": 1, "training": 0}


@pytest.mark.parametrize("path", PATHS)
def test_a_worker_seen_lately_keeps_health_up(
    admin_client, waiting_ten_minutes, settings, path
):
    settings.VITRINE_WORKER_STALE_SECONDS = 60
    WorkerHeartbeat.objects.create(
        hostname="celery@a", seen_at=timezone.now() - timedelta(seconds=20)
    )
    response = admin_client.get(path)

    assert response.status_code == 200
    pipeline = response.json()["checks"]["pipeline"]
    assert (pipeline["ok"], pipeline["worker_alive"]) == (True, True)
    assert 20 <= pipeline["worker_seen_seconds_ago"] < 60


def test_a_worker_silent_too_long_is_not_alive(
    admin_client, waiting_ten_minutes, settings
):
    settings.VITRINE_WORKER_STALE_SECONDS = 60
    WorkerHeartbeat.objects.create(
        hostname="celery@a", seen_at=timezone.now() - timedelta(minutes=5)
    )
    response = admin_client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["pipeline"]["worker_alive"] is False


def test_photos_waiting_briefly_do_not_fail_health(admin_client, merchant, broker):
    broker.up()
    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(image=image, due_at=timezone.now())
    response = admin_client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json()["checks"]["pipeline"]["waiting"] == 1


@pytest.mark.parametrize("path", PATHS)
def test_anyone_learns_only_that_the_pipeline_is_down(
    client, waiting_ten_minutes, path
):
    response = client.get(path)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_in_process_tasks_need_no_worker(admin_client, merchant):
    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(image=image, due_at=timezone.now())
    ClassificationRequest.objects.update(created_at=timezone.now() - timedelta(days=1))
    response = admin_client.get("/health/")
    assert response.status_code == 200
    pipeline = response.json()["checks"]["pipeline"]
    assert (pipeline["in_process"], pipeline["queues"]) == (True, None)
