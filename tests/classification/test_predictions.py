"""Classifying stored images with the real CNN, end to end through the task."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from catalog.models import Category, CategorySource, ImageStatus, ProductImage
from classification.models import ModelVersion, Prediction
from classification.services.dispatch import images_requeue_stuck
from classification.services.intake import image_upload
from classification.tasks import classify_image
from config.tasks import MAX_RETRIES
from tests.catalog.factories import ProductFactory, upload
from tests.images import photo_jpeg, solid_jpeg


@pytest.fixture
def product(merchant):
    return ProductFactory(merchant=merchant, name="Cup")


def stored_image(product, data: bytes, django_capture_on_commit_callbacks):
    """Upload through the service; the queued classification runs on commit."""
    with django_capture_on_commit_callbacks(execute=True):
        image, _ = image_upload(product=product, upload=upload(data), user=None)
    image.refresh_from_db()
    return image


def test_a_coffee_photo_is_classified_and_sets_the_category(
    product, django_capture_on_commit_callbacks
):
    image = stored_image(
        product, photo_jpeg("coffee"), django_capture_on_commit_callbacks
    )
    prediction = Prediction.objects.get(image=image)
    product.refresh_from_db()
    assert prediction.status == Prediction.Status.AUTO_ACCEPTED
    assert prediction.category.slug == "kitchen-drinkware"
    assert prediction.confidence >= prediction.category.auto_accept_threshold
    assert prediction.top_k[0]["category"] == "kitchen-drinkware"
    assert len(prediction.top_k) == 5
    probabilities = [e["probability"] for e in prediction.top_k]
    assert probabilities == sorted(probabilities, reverse=True)
    assert prediction.margin == pytest.approx(
        probabilities[0] - probabilities[1], abs=1e-5
    )
    assert prediction.embedding_vector.shape == (1280,)
    assert prediction.latency_ms > 0
    assert prediction.model_version.status == ModelVersion.Status.ACTIVE
    assert image.status == ImageStatus.CLASSIFIED
    assert (product.category.slug, product.category_source) == (
        "kitchen-drinkware",
        CategorySource.MODEL,
    )


def test_classifying_twice_writes_one_prediction(
    product, django_capture_on_commit_callbacks
):
    image = stored_image(
        product, photo_jpeg("coffee"), django_capture_on_commit_callbacks
    )
    first = Prediction.objects.get(image=image)
    classify_image.apply(args=[image.pk])
    classify_image.apply(args=[image.pk])
    assert Prediction.objects.filter(image=image).count() == 1
    assert Prediction.objects.get(image=image).pk == first.pk


def test_a_cat_photo_waits_for_review(product, django_capture_on_commit_callbacks):
    image = stored_image(
        product, photo_jpeg("chelsea"), django_capture_on_commit_callbacks
    )
    prediction = Prediction.objects.get(image=image)
    product.refresh_from_db()
    assert prediction.status == Prediction.Status.NEEDS_REVIEW
    assert image.status == ImageStatus.NEEDS_REVIEW
    assert product.category is None


def test_a_confident_prediction_that_disagrees_with_the_merchant_goes_to_review(
    merchant, django_capture_on_commit_callbacks
):
    footwear = Category.objects.get(slug="footwear")
    product = ProductFactory(
        merchant=merchant, category=footwear, category_source=CategorySource.MERCHANT
    )
    image = stored_image(
        product, photo_jpeg("coffee"), django_capture_on_commit_callbacks
    )
    product.refresh_from_db()
    assert Prediction.objects.get(image=image).status == Prediction.Status.NEEDS_REVIEW
    assert (product.category, product.category_source) == (
        footwear,
        CategorySource.MERCHANT,
    )


def test_a_lower_threshold_auto_accepts(product, django_capture_on_commit_callbacks):
    Category.objects.update(auto_accept_threshold=0.0)
    image = stored_image(
        product, photo_jpeg("chelsea"), django_capture_on_commit_callbacks
    )
    assert Prediction.objects.get(image=image).status == Prediction.Status.AUTO_ACCEPTED


def test_a_missing_file_is_recorded_as_a_permanent_failure(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    default_storage.delete(image.file.name)
    classify_image.apply(args=[image.pk])
    image.refresh_from_db()
    prediction = Prediction.objects.get(image=image)
    assert prediction.status == Prediction.Status.FAILED
    assert prediction.error == "The stored image file is missing."
    assert image.status == ImageStatus.FAILED


def test_a_failed_image_can_be_classified_again_once_fixed(
    product, django_capture_on_commit_callbacks
):
    data = photo_jpeg("coffee")
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(data), user=None)
    default_storage.delete(image.file.name)
    classify_image.apply(args=[image.pk])
    default_storage.save(image.file.name, ContentFile(data))
    classify_image.apply(args=[image.pk])
    prediction = Prediction.objects.get(image=image)
    assert prediction.status == Prediction.Status.AUTO_ACCEPTED
    assert prediction.error == ""


def test_corrupt_stored_bytes_are_a_permanent_failure(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    with default_storage.open(image.file.name, "wb") as stored:
        stored.write(b"\xff\xd8\xff garbage")
    classify_image.apply(args=[image.pk])
    prediction = Prediction.objects.get(image=image)
    assert prediction.status == Prediction.Status.FAILED
    assert prediction.error.startswith("The stored file could not be decoded:")


def test_transient_storage_errors_are_retried(
    product, flaky_storage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(
            product=product, upload=upload(photo_jpeg("coffee")), user=None
        )
    flaky_storage.failures_left = 2
    classify_image.apply(args=[image.pk])
    assert flaky_storage.failures_left == 0
    assert Prediction.objects.get(image=image).status == Prediction.Status.AUTO_ACCEPTED


def test_giving_up_after_the_retries_records_the_reason(
    product, flaky_storage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    flaky_storage.failures_left = MAX_RETRIES + 1
    classify_image.apply(args=[image.pk])
    prediction = Prediction.objects.get(image=image)
    assert prediction.status == Prediction.Status.FAILED
    assert (
        prediction.error
        == f"Gave up after {MAX_RETRIES} retries: object store unreachable"
    )


def test_a_deleted_image_is_skipped_quietly(
    product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    image_id = image.pk
    image.delete()
    result = classify_image.apply(args=[image_id])
    assert result.successful()
    assert not Prediction.objects.exists()


def test_stuck_images_are_queued_again(product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(
            product=product, upload=upload(photo_jpeg("coffee")), user=None
        )
    image.status = ImageStatus.PROCESSING
    image.save(update_fields=["status"])
    assert images_requeue_stuck(older_than_seconds=3600) == 0
    assert images_requeue_stuck(older_than_seconds=0) == 1
    image.refresh_from_db()
    assert image.status == ImageStatus.CLASSIFIED


def test_a_requeued_image_is_not_queued_again_until_another_period_passes(
    product, django_capture_on_commit_callbacks, monkeypatch
):
    from config.celery import app

    with django_capture_on_commit_callbacks(execute=False):
        image, _ = image_upload(product=product, upload=upload(solid_jpeg()), user=None)
    ProductImage.objects.filter(pk=image.pk).update(
        status_changed_at=timezone.now() - timedelta(hours=2)
    )
    # A backlog: tasks wait in the (in-memory) broker instead of running here.
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    assert images_requeue_stuck(older_than_seconds=3600) == 1
    assert images_requeue_stuck(older_than_seconds=3600) == 0
    image.refresh_from_db()
    assert image.status == ImageStatus.PENDING
