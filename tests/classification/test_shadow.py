"""Shadow mode, what activation shows first, and thresholds that mean what they say."""

import pytest

from catalog.models import Category, CategorySource, ImageStatus
from classification.models import ModelVersion, Prediction, ReviewReason
from classification.rollout import activation_comparison, shadow_comparison
from classification.selectors import review_queue
from classification.services.intake import image_upload
from classification.services.product_category import products_decide
from classification.services.reviews import prediction_review
from classification.services.shadow import (
    ShadowError,
    model_version_shadow_start,
)
from classification.services.versions import (
    model_version_activate,
    model_version_ensure_default,
)
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.classification.synthetic import shape_image
from tests.images import encode


def _upload(product, slug, django_capture_on_commit_callbacks, seed=0):
    data = encode(shape_image(slug, seed=seed))
    with django_capture_on_commit_callbacks(execute=True):
        image, _ = image_upload(product=product, upload=upload(data), user=None)
    return image


@pytest.fixture
def shadowed(shapes_version, merchant):
    """The shapes version active, the default ImageNet one in shadow."""
    default = model_version_ensure_default()
    model_version_activate(version=shapes_version)
    default.refresh_from_db()
    model_version_shadow_start(version=default)
    return shapes_version, default


def test_a_shadow_prediction_never_becomes_current_nor_sets_a_category(
    shadowed, merchant, django_capture_on_commit_callbacks
):
    active, candidate = shadowed
    product = ProductFactory(merchant=merchant)
    image = _upload(product, "red-circles", django_capture_on_commit_callbacks)
    real = Prediction.objects.get(image=image, model_version=active)
    ghost = Prediction.objects.get(image=image, model_version=candidate)
    assert real.is_current and not ghost.is_current
    assert ghost.status == Prediction.Status.SHADOW
    assert ghost.top_k and ghost.confidence is not None
    product.refresh_from_db()
    # The category is the active version's (a shape) or none: never the shadow's.
    assert product.category_id in (real.category_id, None)
    assert not review_queue().filter(pk=ghost.pk).exists()
    image.refresh_from_db()
    assert image.status in (ImageStatus.CLASSIFIED, ImageStatus.NEEDS_REVIEW)


def test_a_shadow_prediction_cannot_be_reviewed(
    shadowed, merchant, reviewer, django_capture_on_commit_callbacks
):
    _, candidate = shadowed
    image = _upload(
        ProductFactory(merchant=merchant),
        "red-circles",
        django_capture_on_commit_callbacks,
    )
    ghost = Prediction.objects.get(image=image, model_version=candidate)
    from classification.services.reviews import ReviewConflict, ReviewError

    with pytest.raises((ReviewError, ReviewConflict)):
        prediction_review(
            prediction_id=ghost.pk, reviewer=reviewer, decision="accepted"
        )


def test_the_active_version_cannot_run_in_shadow(shadowed):
    active, _ = shadowed
    with pytest.raises(ShadowError):
        model_version_shadow_start(version=active)


def test_activating_the_shadow_version_classifies_for_real(
    shadowed, merchant, django_capture_on_commit_callbacks
):
    from classification.tasks import classify_image

    _, candidate = shadowed
    image = _upload(
        ProductFactory(merchant=merchant),
        "red-circles",
        django_capture_on_commit_callbacks,
    )
    model_version_activate(version=candidate)
    classify_image.apply(args=[image.pk])
    mine = Prediction.objects.get(image=image, model_version=candidate)
    assert mine.is_current and mine.status != Prediction.Status.SHADOW


def test_the_shadow_comparison_counts_agreement_flips_and_reviewed_precision(
    shadowed, merchant, reviewer, django_capture_on_commit_callbacks
):
    active, candidate = shadowed
    images = [
        _upload(
            ProductFactory(merchant=merchant),
            slug,
            django_capture_on_commit_callbacks,
            seed=i,
        )
        for i, slug in enumerate(["red-circles", "blue-squares", "green-triangles"])
    ]
    real = Prediction.objects.get(image=images[0], model_version=active)
    if real.status != Prediction.Status.FAILED:
        prediction_review(
            prediction_id=real.pk,
            reviewer=reviewer,
            decision="corrected",
            category=Category.objects.get(slug="green-triangles"),
        )
    comparison = shadow_comparison(version=candidate)
    assert comparison["photos"] == 3
    # The ImageNet map has no shape categories: it never agrees.
    assert comparison["agreement"] == 0.0
    assert sum(row["flipped"] for row in comparison["flips"]) == 3
    assert comparison["reviewed"] == 1
    assert comparison["precision"] == 0.0
    assert comparison["active_precision"] == 0.0


def test_activation_of_a_version_that_cannot_predict_a_category_in_use_warns(
    shapes_version, merchant
):
    model_version_ensure_default()
    ProductFactory(
        merchant=merchant,
        category=Category.objects.get(slug="apparel"),
        category_source=CategorySource.MERCHANT,
    )
    comparison = activation_comparison(version=shapes_version)
    assert [row["category"] for row in comparison["cannot_predict"]] == ["apparel"]
    assert any("cannot predict 1 categories" in w for w in comparison["warnings"])
    assert comparison["active"]["name"] == "imagenet-taxonomy-v1"
    assert {row["key"] for row in comparison["metrics"]} >= {"accuracy", "macro_f1"}
    assert {row["category"] for row in comparison["thresholds"]} == set(
        shapes_version.classes
    )


def test_a_threshold_of_one_sends_even_full_confidence_to_review(db, settings):
    settings.VITRINE_AUDIT_RATE = 0.0
    Category.objects.filter(slug="apparel").update(auto_accept_threshold=1.0)
    item = queue_data.prediction(top=[("apparel", 1.0)])

    products_decide(product_ids=[item.image.product_id])
    item.refresh_from_db()
    assert (item.status, item.review_reason) == (
        Prediction.Status.NEEDS_REVIEW,
        ReviewReason.LOW_CONFIDENCE,
    )

    Category.objects.filter(slug="apparel").update(auto_accept_threshold=0.99)
    products_decide(product_ids=[item.image.product_id])
    item.refresh_from_db()
    assert item.status == Prediction.Status.AUTO_ACCEPTED


def test_versions_in_shadow_are_one_at_a_time(shadowed, shapes_artifact):
    from classification.services.versions import model_version_register

    artifact, metrics = shapes_artifact
    other = model_version_register(name="shapes-v2", artifact=artifact, metrics=metrics)
    model_version_shadow_start(version=other)
    assert list(ModelVersion.objects.filter(status=ModelVersion.Status.SHADOW)) == [
        other
    ]


def test_the_review_share_shown_is_the_one_at_the_thresholds_it_would_use(db):
    from classification.rollout import version_review_share
    from tests.classification import queue_data

    version = queue_data.model_version()
    curve = [
        {"threshold": 0.9, "coverage": 0.5, "precision": 1.0},
        {"threshold": 0.5, "coverage": 1.0, "precision": 0.8},
    ]
    version.classes = ["apparel", "footwear"]
    version.metrics = {
        "accuracy": 0.9,
        "thresholds": {
            # What the evaluation alone says: nothing is calibrated, all reviewed.
            "review_share": 1.0,
            "per_class": {
                # Too few to calibrate: today's threshold (0.6) applies.
                "apparel": {"threshold": None, "predicted": 10, "curve": curve},
                # Never reached the target: 1.0, nothing auto-accepted.
                "footwear": {"threshold": 1.0, "predicted": 10, "curve": curve},
            },
        },
    }
    version.save()
    # Apparel auto-accepts its half at 0.9 and above; footwear nothing.
    assert version_review_share(version) == 0.75
    assert activation_comparison(version=version)["review_share"] == 0.75
