"""Audit samples of auto-accepted predictions, and the precision they measure."""

import pytest

from catalog.models import CategorySource
from classification.evidence import audit_precision, wilson_interval
from classification.models import Prediction
from classification.selectors import classification_stats, live_precision, review_queue
from classification.services.audit import prediction_drawn_for_audit
from classification.services.reviews import prediction_review
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data
from tests.classification.test_predictions import stored_image
from tests.images import photo_jpeg


def _share(rate_setting, settings, *, slug="apparel", n=20_000):
    settings.VITRINE_AUDIT_RATE = rate_setting
    drawn = sum(
        prediction_drawn_for_audit(image_id=i, model_version_id=7, category_slug=slug)
        for i in range(1, n + 1)
    )
    return drawn / n


def test_the_audit_draws_close_to_the_configured_share(settings):
    settings.VITRINE_AUDIT_RATE_PER_CATEGORY = {}
    assert _share(0.03, settings) == pytest.approx(0.03, abs=0.004)
    assert _share(0.25, settings) == pytest.approx(0.25, abs=0.01)
    assert _share(0.0, settings) == 0.0


def test_a_category_can_have_its_own_audit_share(settings):
    settings.VITRINE_AUDIT_RATE_PER_CATEGORY = {"footwear": 0.10}
    assert _share(0.03, settings, slug="footwear") == pytest.approx(0.10, abs=0.007)
    assert _share(0.03, settings, slug="apparel") == pytest.approx(0.03, abs=0.004)


def test_the_draw_is_the_same_for_the_same_prediction_and_differs_by_version(
    settings,
):
    settings.VITRINE_AUDIT_RATE = 0.5
    first = [
        prediction_drawn_for_audit(image_id=i, model_version_id=1, category_slug="x")
        for i in range(200)
    ]
    again = [
        prediction_drawn_for_audit(image_id=i, model_version_id=1, category_slug="x")
        for i in range(200)
    ]
    other = [
        prediction_drawn_for_audit(image_id=i, model_version_id=2, category_slug="x")
        for i in range(200)
    ]
    assert first == again
    assert first != other


@pytest.fixture
def coffee(merchant, settings, django_capture_on_commit_callbacks):
    """Classify a coffee photo (auto-accepted) at the given audit share; return
    its prediction."""

    def classify(rate: float) -> Prediction:
        settings.VITRINE_AUDIT_RATE = rate
        product = ProductFactory(merchant=merchant, name="Cup")
        image = stored_image(
            product, photo_jpeg("coffee"), django_capture_on_commit_callbacks
        )
        return Prediction.objects.select_related("image__product").get(image=image)

    return classify


def test_an_audited_auto_acceptance_sets_the_category_and_waits_as_an_audit_sample(
    coffee,
):
    prediction = coffee(1.0)
    product = prediction.image.product
    assert prediction.audit is True
    assert prediction.status == Prediction.Status.NEEDS_REVIEW
    assert (product.category.slug, product.category_source) == (
        "kitchen-drinkware",
        CategorySource.MODEL,
    )
    queued = review_queue().get(pk=prediction.pk)
    assert queued.review_reason == "audit"


def test_without_audit_share_an_auto_acceptance_is_not_audited(coffee):
    prediction = coffee(0.0)
    assert (prediction.audit, prediction.status) == (False, "auto_accepted")
    assert not review_queue().filter(pk=prediction.pk).exists()


def test_a_correction_of_an_audit_item_follows_the_correction_rules(db, reviewer):
    product = ProductFactory()
    product.category = queue_data.category("apparel")
    product.category_source = CategorySource.MODEL
    product.save()
    audited = queue_data.prediction(top=[("apparel", 0.95)], product=product)
    Prediction.objects.filter(pk=audited.pk).update(audit=True)
    prediction_review(
        prediction_id=audited.pk,
        reviewer=reviewer,
        decision="corrected",
        category=queue_data.category("footwear"),
    )
    product.refresh_from_db()
    assert (product.category.slug, product.category_source) == (
        "footwear",
        CategorySource.REVIEWER,
    )


def _decided(version, *, audit: bool, accepted: int, corrected: int, slug="apparel"):
    for status, count in (("accepted", accepted), ("corrected", corrected)):
        for _ in range(count):
            row = queue_data.prediction(
                top=[(slug, 0.9 if audit else 0.4)], status=status, version=version
            )
            Prediction.objects.filter(pk=row.pk).update(audit=audit)


def test_audit_items_feed_only_the_audit_estimate(db):
    version = queue_data.model_version()
    _decided(version, audit=True, accepted=18, corrected=2)
    _decided(version, audit=False, accepted=5, corrected=5)
    live = list(live_precision(model_version=version))
    assert [(r["accepted"], r["corrected"]) for r in live] == [(5, 5)]
    audited = audit_precision(model_version=version)
    assert len(audited) == 1
    row = audited[0]
    assert (row["category_slug"], row["audited"], row["correct"]) == ("apparel", 20, 18)
    assert row["precision"] == pytest.approx(0.9)
    low, high = wilson_interval(18, 20)
    assert (row["low"], row["high"]) == (pytest.approx(low), pytest.approx(high))
    stats = classification_stats()
    (entry,) = [v for v in stats["model_versions"] if v["id"] == version.pk]
    assert entry["live_precision"] == pytest.approx(0.5)
    assert entry["audit_precision"]["precision"] == pytest.approx(0.9)
    assert entry["audit_precision"]["audited"] == 20


def test_the_wilson_interval_matches_the_formula():
    low, high = wilson_interval(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    low, high = wilson_interval(0, 5)
    assert low == 0.0 and round(high, 4) == 0.4345
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)
