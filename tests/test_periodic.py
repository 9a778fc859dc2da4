"""The upkeep that `celery beat` runs: requeue stuck images, purge old keys,
retry webhook deliveries that are due."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import IdempotencyRecord
from catalog.models import ImageStatus, ProductImage
from config.celery import app
from tests.accounts.factories import UserFactory
from tests.classification.factories import ProductImageFactory
from tests.services import free_port
from webhooks.models import Delivery
from webhooks.services import webhook_create


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "classification.tasks.requeue_stuck_images",
        "accounts.tasks.purge_idempotency_keys",
        "webhooks.tasks.retry_webhook_deliveries",
    }
    assert scheduled <= set(app.tasks)


def test_the_scheduled_tasks_do_the_upkeep(merchant, settings):
    settings.VITRINE_STUCK_AFTER_SECONDS = 3600
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    long_ago = timezone.now() - timedelta(hours=25)
    stuck = ProductImageFactory(product__merchant=merchant, status=ImageStatus.PENDING)
    fresh = ProductImageFactory(product__merchant=merchant, status=ImageStatus.PENDING)
    ProductImage.objects.filter(pk=stuck.pk).update(status_changed_at=long_ago)
    user = UserFactory()
    for key in ("old", "new"):
        IdempotencyRecord.objects.create(user=user, key=key, fingerprint=key)
    IdempotencyRecord.objects.filter(key="old").update(created_at=long_ago)
    # A delivery due again, to a receiver that is gone (nothing listens there).
    webhook = webhook_create(
        merchant=merchant,
        url=f"http://127.0.0.1:{free_port()}/",
        events=["image.classified"],
    )
    due = Delivery.objects.create(
        webhook=webhook,
        event="image.classified",
        payload={},
        attempts=1,
        next_attempt_at=timezone.now(),
    )
    app.loader.import_default_modules()

    results = {
        name: app.tasks[entry["task"]].apply().get()
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }

    assert results == {
        "requeue-stuck-images": 1,
        "purge-idempotency-keys": 1,
        "retry-webhook-deliveries": 1,
    }
    # The stuck image was classified again (its file is missing: it failed, with
    # the reason); the fresh one was left alone.
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == ImageStatus.FAILED
    assert fresh.status == ImageStatus.PENDING
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    due.refresh_from_db()
    assert (due.status, due.attempts) == (Delivery.Status.PENDING, 2)
    assert "Could not reach" in due.error
