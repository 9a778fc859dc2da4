from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import CategorySource
from classification.models import NearDuplicate, Prediction, Review
from classification.selectors import (
    live_precision,
    product_review_notices,
    review_queue,
)
from classification.services.intake import product_update
from classification.services.reviews import prediction_review, predictions_review_bulk
from tests.accounts.factories import MerchantFactory, UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import (
    TOP5,
    category,
    image,
    model_version,
    prediction,
    with_merchant_category,
)

pytestmark = pytest.mark.django_db


def top(first: float, second: float, slug="apparel", other="footwear"):
    return [(slug, first), (other, second)]


# --- what is in the queue ------------------------------------------------------


def test_queue_holds_waiting_failed_and_merchant_disagreements_only():
    waiting = prediction(top=TOP5)
    failed = prediction(top=None)
    against_merchant = prediction(top=TOP5, status=Prediction.Status.AUTO_ACCEPTED)
    product_update(product=against_merchant.image.product, category=category("eyewear"))
    # Not in the queue:
    prediction(top=TOP5, status=Prediction.Status.AUTO_ACCEPTED)
    prediction(
        top=TOP5,
        status=Prediction.Status.AUTO_ACCEPTED,
        product=with_merchant_category(ProductFactory(), "apparel"),
    )
    prediction(top=TOP5, status=Prediction.Status.ACCEPTED)
    prediction(top=TOP5, status=Prediction.Status.CORRECTED)
    prediction(top=TOP5, is_current=False)
    queue = review_queue()
    assert set(queue) == {waiting, failed, against_merchant}
    reasons = {item.pk: item.review_reason for item in queue}
    assert reasons == {
        waiting.pk: "low_confidence",
        failed.pk: "failed",
        against_merchant.pk: "disagreement",
    }


def test_a_model_chosen_category_is_not_a_disagreement():
    product = ProductFactory(
        category=category("footwear"), category_source=CategorySource.MODEL
    )
    prediction(top=TOP5, status=Prediction.Status.AUTO_ACCEPTED, product=product)
    assert list(review_queue()) == []


def test_waiting_prediction_against_the_merchant_says_so():
    product = with_merchant_category(ProductFactory(), "eyewear")
    item = prediction(top=TOP5, product=product, reason="disagreement")
    assert review_queue().get().review_reason == "disagreement"
    assert list(review_queue(reason="disagreement")) == [item]
    assert list(review_queue(reason="low_confidence")) == []


def test_merchant_changing_the_category_later_brings_an_auto_accepted_item_back():
    confident = [("apparel", 0.9), ("footwear", 0.05)]
    item = prediction(top=confident, status=Prediction.Status.AUTO_ACCEPTED)
    product = item.image.product
    assert list(review_queue()) == []
    product_update(product=product, category=category("eyewear"))
    assert list(review_queue()) == [item]
    assert review_queue().get().review_reason == "disagreement"
    item.image.refresh_from_db()
    assert item.image.status == "needs_review"
    # The merchant agrees after all: the model's confident answer stands again.
    product_update(product=product, category=category("apparel"))
    assert list(review_queue()) == []
    item.refresh_from_db()
    item.image.refresh_from_db()
    assert (item.status, item.image.status) == ("auto_accepted", "classified")


def test_merchant_agreeing_with_an_unsure_prediction_leaves_it_in_review():
    item = prediction(top=TOP5)  # 0.41: below the 0.6 threshold
    product_update(product=item.image.product, category=category("apparel"))
    assert list(review_queue()) == [item]
    assert review_queue().get().review_reason == "low_confidence"


def test_merchant_changes_leave_decided_and_failed_predictions_alone(reviewer):
    decided = prediction(top=TOP5)
    prediction_review(prediction_id=decided.pk, reviewer=reviewer, decision="accepted")
    failed = prediction(top=None)
    for item in (decided, failed):
        product = item.image.product
        product.refresh_from_db()
        product_update(product=product, category=category("eyewear"))
    assert Prediction.objects.get(pk=decided.pk).status == "accepted"
    assert Prediction.objects.get(pk=failed.pk).status == "failed"


def test_decided_items_leave_the_queue(reviewer):
    first, second = prediction(top=TOP5), prediction(top=TOP5)
    prediction_review(prediction_id=first.pk, reviewer=reviewer, decision="accepted")
    assert list(review_queue()) == [second]


# --- order -------------------------------------------------------------------


def test_queue_puts_the_most_uncertain_first():
    sure = prediction(top=top(0.55, 0.15))
    torn = prediction(top=top(0.40, 0.39))
    unsure = prediction(top=top(0.45, 0.30))
    failed = prediction(top=None)
    assert list(review_queue()) == [failed, torn, unsure, sure]


def test_equal_margins_are_served_oldest_first():
    newer = prediction(top=top(0.5, 0.4), age=timedelta(hours=1))
    older = prediction(top=top(0.5, 0.4), age=timedelta(days=2))
    assert list(review_queue()) == [older, newer]


# --- filters -----------------------------------------------------------------


def test_queue_filters_by_merchant_category_version_reason_and_age():
    shop = MerchantFactory()
    old_version, new_version = model_version(), model_version()
    from_shop = prediction(top=TOP5, merchant=shop, version=old_version)
    eyewear = prediction(
        top=[("eyewear", 0.5), ("apparel", 0.4)],
        version=new_version,
        age=timedelta(days=10),
    )
    failed = prediction(top=None, version=old_version, age=timedelta(days=2))
    assert list(review_queue(merchant=shop)) == [from_shop]
    assert list(review_queue(merchant=shop.pk)) == [from_shop]
    assert list(review_queue(category=category("eyewear"))) == [eyewear]
    assert list(review_queue(model_version=new_version)) == [eyewear]
    assert set(review_queue(model_version=old_version.pk)) == {from_shop, failed}
    assert list(review_queue(reason="failed")) == [failed]
    assert set(review_queue(older_than=timedelta(days=1))) == {eyewear, failed}
    assert list(review_queue(older_than=timedelta(days=7))) == [eyewear]
    assert list(review_queue(merchant=shop, reason="failed")) == []


def test_unknown_reason_is_refused():
    with pytest.raises(ValueError, match="unknown review reason"):
        review_queue(reason="boredom")


def test_skipped_items_leave_only_the_skippers_flow(reviewer):
    item, other = prediction(top=top(0.4, 0.39)), prediction(top=top(0.5, 0.2))
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="skipped")
    assert list(review_queue(skipped_by=reviewer)) == [other]
    assert list(review_queue(skipped_by=UserFactory())) == [item, other]


def test_queue_reads_in_a_fixed_number_of_queries(django_assert_num_queries):
    for _ in range(20):
        item = prediction(top=TOP5)
        other = image(merchant=item.image.merchant)
        NearDuplicate.objects.create(
            image=item.image, duplicate_of=other, method="phash", score=2
        )
    with django_assert_num_queries(2):  # the page, then its near-duplicates
        items = list(review_queue())
        names = [
            (
                i.category.name,
                i.model_version.name,
                i.image.merchant.name,
                i.image.product.name,
                [d.duplicate_of.product.name for d in i.image.near_duplicates.all()],
            )
            for i in items
        ]
    assert len(names) == 20
    assert all(len(row[4]) == 1 for row in names)


# --- live precision ----------------------------------------------------------


def test_live_precision_per_version_and_category_on_known_data(reviewer):
    v1, v2 = model_version("v1"), model_version("v2")
    apparel = [("apparel", 0.5), ("footwear", 0.3)]
    eyewear = [("eyewear", 0.5), ("apparel", 0.3)]
    # v1 apparel: 3 accepted, 1 corrected; v1 eyewear: 1 corrected; v2 apparel:
    # 2 accepted. Waiting, skipped and failed ones do not count.
    plan = [
        (v1, apparel, "accepted"),
        (v1, apparel, "accepted"),
        (v1, apparel, "accepted"),
        (v1, apparel, "corrected"),
        (v1, eyewear, "corrected"),
        (v2, apparel, "accepted"),
        (v2, apparel, "accepted"),
        (v2, apparel, "skipped"),
        (v2, apparel, None),
        (v2, None, "corrected"),
    ]
    for version, top_k, decision in plan:
        item = prediction(top=top_k, version=version)
        if decision:
            prediction_review(
                prediction_id=item.pk,
                reviewer=reviewer,
                decision=decision,
                category=category("bags-luggage") if decision == "corrected" else None,
            )
    rows = [
        (
            r["model_version_name"],
            r["category_slug"],
            r["accepted"],
            r["corrected"],
            r["reviewed"],
            r["precision"],
        )
        for r in live_precision()
    ]
    assert rows == [
        ("v1", "apparel", 3, 1, 4, 0.75),
        ("v1", "eyewear", 0, 1, 1, 0.0),
        ("v2", "apparel", 2, 0, 2, 1.0),
    ]
    per_version = {
        r["model_version_name"]: (r["reviewed"], r["precision"])
        for r in live_precision(per_category=False)
    }
    assert per_version == {"v1": (5, 0.6), "v2": (2, 1.0)}
    assert [r["reviewed"] for r in live_precision(model_version=v2)] == [2]
    assert [r["reviewed"] for r in live_precision(category=category("eyewear"))] == [1]


def test_live_precision_counts_bulk_decisions_and_bounds_by_review_time(reviewer):
    merchant = MerchantFactory()
    items = [prediction(top=TOP5, merchant=merchant) for _ in range(4)]
    predictions_review_bulk(
        prediction_ids=[i.pk for i in items[:3]],
        reviewer=reviewer,
        decision="accepted",
    )
    Review.objects.update(created_at=timezone.now() - timedelta(days=3))
    prediction_review(
        prediction_id=items[3].pk,
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
    )
    (everything,) = live_precision(merchant=merchant)
    assert (everything["accepted"], everything["corrected"]) == (3, 1)
    (recent,) = live_precision(reviewed_since=timezone.now() - timedelta(days=1))
    assert (recent["accepted"], recent["corrected"], recent["precision"]) == (0, 1, 0)
    (earlier,) = live_precision(reviewed_until=timezone.now() - timedelta(days=1))
    assert earlier["precision"] == 1.0
    assert list(live_precision(merchant=MerchantFactory())) == []


def test_live_precision_is_one_query(django_assert_num_queries, reviewer):
    for _ in range(5):
        item = prediction(top=TOP5)
        prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    with django_assert_num_queries(1):
        rows = list(live_precision())
    assert rows[0]["reviewed"] == 5


# --- what the merchant is told ----------------------------------------------


def test_notice_tells_the_merchant_a_reviewer_changed_the_category(reviewer):
    product = with_merchant_category(ProductFactory(), "footwear")
    item = prediction(top=TOP5, product=product)
    assert not product_review_notices(product=product)
    prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
        set_product_category=True,
    )
    product.refresh_from_db()
    change = product_review_notices(product=product).category_change
    assert change.previous_category == category("footwear")
    assert change.final_category == category("eyewear")


def test_notice_when_a_reviewer_first_sets_the_category(reviewer):
    item = prediction(top=TOP5)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    product = item.image.product
    product.refresh_from_db()
    change = product_review_notices(product=product).category_change
    assert change.previous_category is None
    assert change.final_category == category("apparel")


def test_no_notice_when_the_reviewer_confirmed_the_merchants_category(reviewer):
    product = with_merchant_category(ProductFactory(), "apparel")
    item = prediction(top=TOP5, product=product)
    prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="accepted",
        set_product_category=True,
    )
    product.refresh_from_db()
    assert product.category_source == CategorySource.REVIEWER
    assert product_review_notices(product=product).category_change is None


def test_notice_goes_once_the_merchant_chooses_again(reviewer):
    item = prediction(top=TOP5)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    product = item.image.product
    product.refresh_from_db()
    product_update(product=product, category=category("eyewear"))
    assert product_review_notices(product=product).category_change is None


def test_notices_list_photos_already_on_another_product_of_the_merchant():
    original = image()
    product = ProductFactory(merchant=original.merchant)
    copy = image(product=product)
    same_product_copy = image(product=product)
    NearDuplicate.objects.create(
        image=copy, duplicate_of=original, method="phash", score=1
    )
    NearDuplicate.objects.create(
        image=same_product_copy, duplicate_of=copy, method="phash", score=0
    )
    notices = product_review_notices(product=product)
    assert [(d.image, d.duplicate_of) for d in notices.near_duplicates] == [
        (copy, original)
    ]
    assert not product_review_notices(product=original.product)
