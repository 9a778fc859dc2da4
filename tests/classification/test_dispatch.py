"""The outbox: an upload that stored its photo answers success whatever the
broker's state, and what is owed reaches the broker once it answers, again when
its message was lost, and never more than the cap allows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import ImageStatus, ProductImage
from classification.models import ClassificationRequest, Prediction, WorkerHeartbeat
from classification.services import dispatch
from classification.services.intake import image_upload
from classification.tasks import classify_image, dispatch_classifications
from config.tasks import MAX_RETRIES
from tests.catalog.factories import ProductFactory, upload
from tests.classification.factories import ProductImageFactory
from tests.images import solid_jpeg


def api_upload(api, product, data: bytes):
    return api.post(
        f"/api/v1/products/{product.pk}/images/",
        {"file": upload(data, "mug.jpg")},
        format="multipart",
    )


def made_due(image_id: int) -> None:
    """As if the request's backoff had passed."""
    ClassificationRequest.objects.filter(image_id=image_id).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db(transaction=True)
def test_an_upload_succeeds_while_the_broker_is_away_and_is_queued_once_it_is_back(
    merchant_api, merchant, broker
):
    product = ProductFactory(merchant=merchant)

    response = api_upload(merchant_api, product, solid_jpeg())

    assert response.status_code == 202, response.content
    image_id = response.json()["images"][0]["id"]
    request = ClassificationRequest.objects.get(image_id=image_id)
    assert request.dispatches == 0
    assert "Broker unreachable" in request.last_error
    broker.up()
    assert dispatch_classifications.apply().get() == 1
    assert broker.waiting() == 1
    assert ClassificationRequest.objects.get(image_id=image_id).dispatches == 1
    # Sent once: the next upkeep finds it on its way and sends nothing.
    assert dispatch_classifications.apply().get() == 0
    assert broker.waiting() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retried_upload_of_bytes_never_queued_gets_them_queued(
    merchant_api, merchant, broker
):
    product = ProductFactory(merchant=merchant)
    first = api_upload(merchant_api, product, solid_jpeg())
    assert first.status_code == 202
    broker.up()

    again = api_upload(merchant_api, product, solid_jpeg())

    assert again.json()["images"][0]["created"] is False
    assert broker.waiting() == 1
    # Queued already: a third try queues nothing more.
    api_upload(merchant_api, product, solid_jpeg())
    assert broker.waiting() == 1


@pytest.mark.django_db(transaction=True)
def test_the_upkeep_sends_again_a_photo_whose_message_the_broker_lost(
    merchant_api, merchant, broker
):
    broker.up()
    product = ProductFactory(merchant=merchant)
    image_id = api_upload(merchant_api, product, solid_jpeg()).json()["images"][0]["id"]
    assert broker.waiting() == 1

    made_due(image_id)
    assert dispatch_classifications.apply().get() == 0, "its message still waits"
    broker.restart_empty()
    made_due(image_id)
    assert dispatch_classifications.apply().get() == 1

    assert broker.waiting() == 1
    request = ClassificationRequest.objects.get(image_id=image_id)
    assert request.dispatches == 2
    assert request.due_at > timezone.now() + timedelta(seconds=30)


@pytest.mark.django_db
def test_a_photo_processing_past_the_time_limit_is_sent_again(
    merchant, broker, settings
):
    settings.VITRINE_CLASSIFY_TIME_LIMIT = 90
    broker.up()
    now = timezone.now()
    started = {
        "dead": now - timedelta(seconds=120),
        "alive": now - timedelta(seconds=5),
    }
    images = {}
    for name, at in started.items():
        image = ProductImageFactory(
            product__merchant=merchant, status=ImageStatus.PROCESSING
        )
        ProductImage.objects.filter(pk=image.pk).update(status_changed_at=at)
        ClassificationRequest.objects.create(
            image=image, dispatches=1, due_at=now - timedelta(seconds=1)
        )
        images[name] = image

    outcome = dispatch.requests_dispatch()

    assert (outcome.sent, outcome.postponed) == (1, 1)
    assert ClassificationRequest.objects.get(image=images["dead"]).dispatches == 2
    alive = ClassificationRequest.objects.get(image=images["alive"])
    assert alive.dispatches == 1
    assert alive.due_at == started["alive"] + timedelta(
        seconds=settings.VITRINE_CLASSIFY_TIME_LIMIT
    )


@pytest.fixture
def product(merchant):
    return ProductFactory(merchant=merchant, name="Cup")


@pytest.mark.django_db
def test_a_transient_failure_is_classified_again_once_storage_is_back(
    product, flaky_storage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    flaky_storage.failures_left = MAX_RETRIES + 1
    classify_image.apply(args=[image.pk])
    image.refresh_from_db()
    assert image.status == ImageStatus.FAILED
    request = ClassificationRequest.objects.get(image=image)
    assert request.last_error.startswith(f"Gave up after {MAX_RETRIES} retries")
    assert request.due_at > timezone.now()
    assert dispatch.requests_dispatch().sent == 0, "not before its backoff"

    made_due(image.pk)
    assert dispatch.requests_dispatch().sent == 1

    image.refresh_from_db()
    # A plain red square: classified, and not sure enough to skip review.
    assert image.status == ImageStatus.NEEDS_REVIEW
    assert Prediction.objects.get(image=image).status == Prediction.Status.NEEDS_REVIEW
    assert not ClassificationRequest.objects.exists()


@pytest.mark.django_db
def test_a_permanent_failure_stays_failed_with_its_reason(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    assert not ClassificationRequest.objects.exists(), "classified on commit"
    image = ProductImageFactory(product=product)  # its file was never stored
    dispatch.requests_open(image_ids=[image.pk])
    dispatch.requests_dispatch()

    image.refresh_from_db()
    assert image.status == ImageStatus.FAILED
    assert (
        Prediction.objects.get(image=image).error == "The stored image file is missing."
    )
    assert not ClassificationRequest.objects.exists()
    assert dispatch.requests_dispatch().sent == 0


@pytest.mark.django_db
def test_a_photo_dispatched_up_to_the_cap_fails_with_the_reason(
    merchant, broker, settings
):
    broker.up()
    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(
        image=image,
        dispatches=settings.VITRINE_DISPATCH_MAX_ATTEMPTS,
        due_at=timezone.now() - timedelta(seconds=1),
        last_error="Broker unreachable: refused",
    )

    assert dispatch.requests_dispatch().given_up == 1

    image.refresh_from_db()
    assert image.status == ImageStatus.FAILED
    assert Prediction.objects.get(image=image).error == (
        f"Not classified after {settings.VITRINE_DISPATCH_MAX_ATTEMPTS} dispatches;"
        " last error: Broker unreachable: refused."
    )
    assert not ClassificationRequest.objects.exists()
    assert broker.waiting() == 0


def test_the_backoff_doubles_up_to_its_cap(settings):
    settings.VITRINE_DISPATCH_RETRY_SECONDS = 30
    settings.VITRINE_DISPATCH_RETRY_MAX_SECONDS = 120
    assert [dispatch.retry_delay(n).total_seconds() for n in range(1, 6)] == [
        30,
        60,
        120,
        120,
        120,
    ]


@pytest.mark.django_db
def test_the_upkeep_notes_the_worker_that_ran_it():
    dispatch_classifications.apply()
    assert WorkerHeartbeat.objects.count() == 1
    assert WorkerHeartbeat.objects.get().seen_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.django_db
def test_a_photo_that_ran_out_of_time_is_dispatched_again(merchant):
    from celery.exceptions import SoftTimeLimitExceeded

    image = ProductImageFactory(product__merchant=merchant)
    dispatch.requests_open(image_ids=[image.pk])
    # What the worker calls when the task passed its soft time limit.
    classify_image.on_failure(SoftTimeLimitExceeded(), "task-id", [image.pk], {}, None)

    image.refresh_from_db()
    assert image.status == ImageStatus.FAILED
    request = ClassificationRequest.objects.get(image=image)
    assert request.last_error == "SoftTimeLimitExceeded: SoftTimeLimitExceeded()"
    assert request.due_at > timezone.now()


@pytest.mark.django_db
def test_the_dispatch_command_says_what_it_did_and_fails_while_the_broker_is_away(
    merchant, broker, capsys
):
    from django.core.management import call_command

    image = ProductImageFactory(product__merchant=merchant)
    ClassificationRequest.objects.create(image=image, due_at=timezone.now())
    with pytest.raises(SystemExit) as exit_info:
        call_command("dispatch_classifications")
    assert exit_info.value.code == 3
    assert "The broker did not answer." in capsys.readouterr().out

    broker.up()
    call_command("dispatch_classifications")
    assert capsys.readouterr().out.strip() == "Queued 1, postponed 0, gave up on 0."
    assert broker.waiting() == 1
