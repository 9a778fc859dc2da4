"""The upkeep that `celery beat` runs: dispatch the classifications owed,
remove storage orphans, purge old keys, retry webhook deliveries that are due."""

from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import IdempotencyRecord
from catalog.models import ImageStatus
from classification.models import ClassificationRequest
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
        "classification.tasks.dispatch_classifications",
        "catalog.tasks.remove_storage_orphans",
        "accounts.tasks.purge_idempotency_keys",
        "webhooks.tasks.retry_webhook_deliveries",
    }
    assert scheduled <= set(app.tasks)


def test_the_scheduled_tasks_do_the_upkeep(merchant, settings):
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True
    long_ago = timezone.now() - timedelta(hours=25)
    owed = ProductImageFactory(product__merchant=merchant, status=ImageStatus.PENDING)
    later = ProductImageFactory(product__merchant=merchant, status=ImageStatus.PENDING)
    ClassificationRequest.objects.create(image=owed, due_at=long_ago)
    ClassificationRequest.objects.create(
        image=later, due_at=timezone.now() + timedelta(minutes=1)
    )
    # An object an upload wrote before its request died: no row names it.
    orphan = "images/1/ab/" + "ab" * 32 + ".jpg"
    default_storage.save(orphan, ContentFile(b"left behind"))
    settings.VITRINE_ORPHAN_GRACE_SECONDS = -60  # old enough at once
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
        "dispatch-classifications": 1,
        "remove-storage-orphans": 1,
        "purge-idempotency-keys": 1,
        "retry-webhook-deliveries": 1,
    }
    # The image owed was classified (its file is missing: it failed, with the
    # reason); the one not due yet was left alone.
    owed.refresh_from_db()
    later.refresh_from_db()
    assert owed.status == ImageStatus.FAILED
    assert later.status == ImageStatus.PENDING
    assert not default_storage.exists(orphan)
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    due.refresh_from_db()
    assert (due.status, due.attempts) == (Delivery.Status.PENDING, 2)
    assert "Could not reach" in due.error
