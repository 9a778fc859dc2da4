"""Activating, rolling back, thresholds and re-classification jobs."""

import pytest

from catalog.models import Category
from classification.models import Job, ModelVersion, Prediction
from classification.services.intake import image_upload
from classification.services.reclassification import (
    reclassify_batch_run,
    reclassify_job_start,
)
from classification.services.versions import (
    NothingToRollBack,
    model_version_activate,
    model_version_ensure_default,
    model_version_register,
    model_version_rollback,
)
from config.tasks import MAX_RETRIES
from tests.catalog.factories import ProductFactory, upload
from tests.classification.synthetic import shape_image
from tests.images import encode


def test_rolling_back_without_an_earlier_version_is_refused(db):
    model_version_ensure_default()
    with pytest.raises(NothingToRollBack, match="nothing to roll back to"):
        model_version_rollback()


def test_only_one_version_is_active_and_roll_back_toggles(shapes_version):
    default = model_version_ensure_default()
    model_version_activate(version=shapes_version)
    assert list(ModelVersion.objects.filter(status="active")) == [shapes_version]
    assert model_version_rollback() == default
    assert model_version_rollback() == shapes_version
    assert ModelVersion.objects.filter(status="active").count() == 1


def _calibrated(shapes_artifact, name, thresholds):
    artifact, metrics = shapes_artifact
    metrics = {
        **metrics,
        "thresholds": {
            "per_class": {
                slug: {"threshold": t, "reached": True}
                for slug, t in thresholds.items()
            }
        },
    }
    return model_version_register(name=name, artifact=artifact, metrics=metrics)


def test_calibrated_thresholds_apply_on_activation_and_roll_back_restores_them(
    shapes_artifact, shape_categories
):
    default = model_version_ensure_default()
    Category.objects.filter(slug="red-circles").update(auto_accept_threshold=0.42)
    v1 = _calibrated(shapes_artifact, "v1", {"red-circles": 0.8, "blue-squares": 0.9})
    v2 = _calibrated(shapes_artifact, "v2", {"red-circles": 0.55})

    def threshold(slug):
        return Category.objects.get(slug=slug).auto_accept_threshold

    model_version_activate(version=v1)
    assert (threshold("red-circles"), threshold("blue-squares")) == (0.8, 0.9)
    model_version_activate(version=v1)  # already active: nothing changes
    v1.refresh_from_db()
    assert v1.training["replaced_thresholds"]["red-circles"] == 0.42
    # v2 has no calibrated value for blue squares: staff's value comes back.
    model_version_activate(version=v2)
    assert (threshold("red-circles"), threshold("blue-squares")) == (0.55, 0.6)
    assert model_version_rollback() == v1
    assert (threshold("red-circles"), threshold("blue-squares")) == (0.8, 0.9)
    # Back to the uncalibrated default: what staff had set comes back.
    model_version_activate(version=default)
    assert (threshold("red-circles"), threshold("blue-squares")) == (0.42, 0.6)


def test_thresholds_stay_when_the_setting_is_off(
    shapes_artifact, shape_categories, settings
):
    settings.VITRINE_APPLY_CALIBRATED_THRESHOLDS = False
    v1 = _calibrated(shapes_artifact, "v1", {"red-circles": 0.8})
    model_version_activate(version=v1)
    assert Category.objects.get(slug="red-circles").auto_accept_threshold == 0.6


@pytest.fixture
def classified_images(merchant, shape_categories, django_capture_on_commit_callbacks):
    """Three shape photos, classified by the default ImageNet version."""
    model_version_ensure_default()
    images = []
    for i, slug in enumerate(["red-circles", "blue-squares", "green-triangles"]):
        with django_capture_on_commit_callbacks(execute=True):
            image, _ = image_upload(
                product=ProductFactory(merchant=merchant),
                upload=upload(encode(shape_image(slug, 900 + i), "PNG"), f"{i}.png"),
                user=None,
            )
        images.append(image)
    return images


def test_reclassifying_with_a_new_version_counts_the_changed_predictions(
    classified_images, shapes_version, staff_user, django_capture_on_commit_callbacks
):
    before = {
        p.image_id: p.category_id for p in Prediction.objects.filter(is_current=True)
    }
    assert len(before) == 3
    model_version_activate(version=shapes_version)
    with django_capture_on_commit_callbacks(execute=True):
        job = reclassify_job_start(only_unseen=True, user=staff_user)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    current = Prediction.objects.filter(is_current=True).select_related("category")
    assert {p.model_version_id for p in current} == {shapes_version.pk}
    assert sorted(p.category.slug for p in current) == sorted(
        ["red-circles", "blue-squares", "green-triangles"]
    )
    changed = sum(before[p.image_id] != p.category_id for p in current)
    assert job.result["changed"] == changed
    assert job.result["processed"] == 3
    assert job.result["changed"] + job.result["unchanged"] == 3
    assert job.progress == 1.0

    # A second unseen run has nothing to do; the old cursor is a no-op.
    with django_capture_on_commit_callbacks(execute=True):
        again = reclassify_job_start(only_unseen=True, user=None)
    again.refresh_from_db()
    assert again.result["total"] == 0 and again.status == Job.Status.SUCCEEDED
    assert reclassify_batch_run(job_id=job.pk, after_id=0) is None


def test_reclassifying_all_after_a_roll_back_restores_the_older_predictions(
    classified_images, shapes_version, django_capture_on_commit_callbacks
):
    default = model_version_ensure_default()
    model_version_activate(version=shapes_version)
    with django_capture_on_commit_callbacks(execute=True):
        reclassify_job_start(only_unseen=True, user=None)
    model_version_rollback()
    with django_capture_on_commit_callbacks(execute=True):
        unseen = reclassify_job_start(only_unseen=True, user=None)
    unseen.refresh_from_db()
    assert unseen.result["total"] == 0  # the default version saw them all
    with django_capture_on_commit_callbacks(execute=True):
        job = reclassify_job_start(only_unseen=False, user=None)
    job.refresh_from_db()
    assert job.result["restored"] == 3
    assert set(
        Prediction.objects.filter(is_current=True).values_list(
            "model_version", flat=True
        )
    ) == {default.pk}
    assert Prediction.objects.count() == 6


def test_a_reclassification_stops_when_the_active_version_changes(
    classified_images, shapes_version, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = reclassify_job_start(only_unseen=False, user=None)
    model_version_activate(version=shapes_version)
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "active version changed" in job.message


def test_a_reclassification_rides_out_a_short_storage_outage(
    classified_images, shapes_version, flaky_storage, django_capture_on_commit_callbacks
):
    model_version_activate(version=shapes_version)
    flaky_storage.failures_left = 2
    with django_capture_on_commit_callbacks(execute=True):
        job = reclassify_job_start(only_unseen=True, user=None)
    job.refresh_from_db()
    assert flaky_storage.failures_left == 0
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.result["processed"] == 3


def test_a_reclassification_gives_up_after_the_retries_and_records_why(
    classified_images, shapes_version, flaky_storage, django_capture_on_commit_callbacks
):
    model_version_activate(version=shapes_version)
    flaky_storage.failures_left = MAX_RETRIES + 1
    with django_capture_on_commit_callbacks(execute=True):
        job = reclassify_job_start(only_unseen=True, user=None)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.message == (
        f"Gave up after {MAX_RETRIES} retries: object store unreachable"
    )
