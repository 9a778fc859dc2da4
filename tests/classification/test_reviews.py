import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import Count

from catalog.models import CategorySource, ImageStatus, Product, ProductImage
from classification.models import Prediction, Review
from classification.selectors import review_queue
from classification.services.reviews import (
    BulkReviewResult,
    ReviewConflict,
    ReviewError,
    prediction_review,
    predictions_review_bulk,
)
from tests.accounts.factories import MerchantFactory, UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import (
    TOP5,
    category,
    prediction,
    with_merchant_category,
)

pytestmark = pytest.mark.django_db


def correct(item, reviewer, slug: str, **fields) -> Review:
    """Correct the prediction ``item`` to the category ``slug``, as ``reviewer``."""
    return prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="corrected",
        category=category(slug),
        **fields,
    )


@pytest.fixture
def reviewer():
    return UserFactory(is_staff=True, username="ada")


@pytest.fixture
def other_reviewer():
    return UserFactory(is_staff=True, username="grace")


def reload(obj):
    obj.refresh_from_db()
    return obj


# --- one decision ------------------------------------------------------------


def test_accept_records_the_decision_and_sets_the_product_category(reviewer):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert (review.reviewer, review.decision) == (reviewer, Review.Decision.ACCEPTED)
    assert review.final_category == category("apparel")
    assert review.previous_category is None
    assert review.created_at is not None
    assert reload(item).status == Prediction.Status.ACCEPTED
    assert reload(item.image).status == ImageStatus.REVIEWED
    product = reload(item.image.product)
    assert product.category == category("apparel")
    assert product.category_source == CategorySource.REVIEWER


def test_correct_records_the_chosen_category(reviewer):
    item = prediction(top=TOP5)
    review = correct(item, reviewer, "eyewear", note="Sunglasses on a model")
    assert review.decision == Review.Decision.CORRECTED
    assert review.final_category == category("eyewear")
    assert review.note == "Sunglasses on a model"
    assert reload(item).status == Prediction.Status.CORRECTED
    # The prediction keeps what the model said: that is what precision counts.
    assert item.category == category("apparel")
    assert reload(item.image.product).category == category("eyewear")


def test_correcting_to_the_top_category_counts_as_accepted(reviewer):
    item = prediction(top=TOP5)
    review = correct(item, reviewer, "apparel")
    assert review.decision == Review.Decision.ACCEPTED
    assert reload(item).status == Prediction.Status.ACCEPTED


def test_correct_without_a_category_is_refused(reviewer):
    item = prediction(top=TOP5)
    with pytest.raises(ReviewError, match="Choose the right category"):
        prediction_review(
            prediction_id=item.pk, reviewer=reviewer, decision="corrected"
        )
    assert not Review.objects.exists()
    assert reload(item).status == Prediction.Status.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("decision", "slug", "message"),
    [
        ("approve", None, "Unknown decision"),
        ("", None, "Unknown decision"),
        ("skipped", "eyewear", "A skip takes no category"),
        ("accepted", "eyewear", "Accepting takes the predicted category"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(reviewer, decision, slug, message):
    item = prediction(top=TOP5)
    with pytest.raises(ReviewError, match=message):
        prediction_review(
            prediction_id=item.pk,
            reviewer=reviewer,
            decision=decision,
            category=category(slug) if slug else None,
        )
    assert not Review.objects.exists()
    assert reload(item.image.product).category is None


def test_a_prediction_that_does_not_exist_is_refused(reviewer):
    with pytest.raises(ReviewError, match="no prediction 999999"):
        prediction_review(prediction_id=999999, reviewer=reviewer, decision="skipped")


def test_a_failed_prediction_cannot_be_accepted_but_can_be_corrected(reviewer):
    item = prediction(top=None)
    with pytest.raises(ReviewError, match="no category to accept"):
        prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    review = correct(item, reviewer, "footwear")
    assert review.decision == Review.Decision.CORRECTED
    assert reload(item).status == Prediction.Status.CORRECTED
    assert reload(item.image.product).category == category("footwear")


def test_skip_changes_nothing_but_leaves_the_reviewers_flow(reviewer, other_reviewer):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="skipped"
    )
    assert review.decision == Review.Decision.SKIPPED
    assert review.final_category is None
    assert reload(item).status == Prediction.Status.NEEDS_REVIEW
    assert reload(item.image).status == ImageStatus.NEEDS_REVIEW
    assert reload(item.image.product).category is None
    assert list(review_queue(skipped_by=reviewer)) == []
    assert list(review_queue(skipped_by=other_reviewer)) == [item]
    assert list(review_queue()) == [item]


def test_skipping_twice_is_allowed_and_recorded(reviewer):
    item = prediction(top=TOP5)
    for _ in range(2):
        prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="skipped")
    assert Review.objects.filter(decision="skipped").count() == 2


def test_accepting_against_the_merchant_labels_the_photo_only(reviewer):
    product = with_merchant_category(ProductFactory(), "footwear")
    item = prediction(top=TOP5, status=Prediction.Status.AUTO_ACCEPTED, product=product)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert review.previous_category == category("footwear")
    assert review.final_category == category("apparel")
    assert not review.sets_product_category
    product = reload(product)
    assert (product.category.slug, product.category_source) == ("footwear", "merchant")


def test_replacing_the_merchants_category_is_an_explicit_choice(reviewer):
    product = with_merchant_category(ProductFactory(), "footwear")
    item = prediction(top=TOP5, status=Prediction.Status.AUTO_ACCEPTED, product=product)
    review = prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="accepted",
        set_product_category=True,
    )
    assert review.previous_category == category("footwear")
    assert review.sets_product_category
    product = reload(product)
    assert (product.category.slug, product.category_source) == ("apparel", "reviewer")


# --- two reviewers -----------------------------------------------------------


def test_a_second_reviewer_gets_a_conflict_not_an_overwrite(reviewer, other_reviewer):
    item = prediction(top=TOP5)
    prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    with pytest.raises(ReviewConflict, match=r"Already accepted by ada .* “Apparel”"):
        correct(item, other_reviewer, "eyewear")
    assert Review.objects.count() == 1
    assert reload(item).status == Prediction.Status.ACCEPTED
    assert reload(item.image.product).category == category("apparel")


def test_a_second_skip_of_a_decided_item_is_a_conflict(reviewer, other_reviewer):
    item = prediction(top=TOP5)
    correct(item, reviewer, "eyewear")
    with pytest.raises(ReviewConflict, match="Already corrected by ada"):
        prediction_review(
            prediction_id=item.pk, reviewer=other_reviewer, decision="skipped"
        )


def test_the_same_decision_sent_twice_returns_the_first_review(reviewer):
    item = prediction(top=TOP5)
    first = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    again = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert again == first
    assert Review.objects.count() == 1
    with pytest.raises(ReviewConflict, match="Already accepted by you"):
        correct(item, reviewer, "eyewear")


def test_a_prediction_replaced_by_a_newer_one_is_a_conflict(reviewer):
    item = prediction(top=TOP5, is_current=False)
    with pytest.raises(ReviewConflict, match="classified again"):
        prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    assert not Review.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_the_same_moment_one_wins(reviewer, other_reviewer):
    """Reviewer A holds the row lock; B's review waits for it, then gets a conflict.

    Two database connections (two threads) on PostgreSQL, where SELECT ... FOR
    UPDATE really locks; SQLite serialises writers at BEGIN IMMEDIATE instead.
    """
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL=postgres://...)")
    item = prediction(top=TOP5)
    outcome = {}

    def second_reviewer():
        try:
            outcome["review"] = correct(item, other_reviewer, "eyewear")
        except ReviewConflict as error:
            outcome["conflict"] = str(error)
        finally:
            close_old_connections()
            connection.close()

    with transaction.atomic():
        # Reviewer A is mid-decision: the row is locked by this transaction.
        Prediction.objects.select_for_update().get(pk=item.pk)
        thread = threading.Thread(target=second_reviewer)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "B did not wait for A's lock"
        prediction_review(prediction_id=item.pk, reviewer=reviewer, decision="accepted")
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert "review" not in outcome
    assert "Already accepted by ada" in outcome["conflict"]
    assert list(Review.objects.values_list("reviewer__username", "decision")) == [
        ("ada", "accepted")
    ]
    assert reload(item.image.product).category == category("apparel")


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_reviews_make_exactly_one_decision(reviewer, other_reviewer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections need PostgreSQL")
    items = [prediction(top=TOP5) for _ in range(10)]
    start = threading.Barrier(2)
    results = {"reviewed": 0, "conflicts": 0}
    lock = threading.Lock()

    def work(user, slug):
        try:
            for item in items:
                start.wait(timeout=10)
                try:
                    correct(item, user, slug)
                    key = "reviewed"
                except ReviewConflict:
                    key = "conflicts"
                with lock:
                    results[key] += 1
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(reviewer, "eyewear")),
        threading.Thread(target=work, args=(other_reviewer, "footwear")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"reviewed": 10, "conflicts": 10}
    per_prediction = (
        Review.objects.values("prediction").annotate(n=Count("id")).values_list("n")
    )
    assert sorted(n for (n,) in per_prediction) == [1] * 10
    for item in items:
        review = Review.objects.get(prediction=item)
        assert reload(item.image.product).category == review.final_category


# --- many at once -------------------------------------------------------------


def test_bulk_accept_gives_each_product_its_own_top_category(reviewer):
    items = [
        prediction(top=[("apparel", 0.5), ("footwear", 0.4)]),
        prediction(top=[("eyewear", 0.45), ("apparel", 0.4)]),
    ]
    result = predictions_review_bulk(
        prediction_ids=[i.pk for i in items], reviewer=reviewer, decision="accepted"
    )
    assert (result.reviewed, result.conflicts) == (2, [])
    assert [reload(i.image.product).category.slug for i in items] == [
        "apparel",
        "eyewear",
    ]
    for item in items:
        review = Review.objects.get(prediction=item)
        assert (review.reviewer, review.decision) == (reviewer, "accepted")
        assert review.final_category == reload(item).category
        assert item.status == Prediction.Status.ACCEPTED
        assert reload(item.image).status == ImageStatus.REVIEWED
        assert item.image.product.category_source == CategorySource.REVIEWER


def test_bulk_set_category_corrects_all_and_accepts_where_it_was_right(reviewer):
    right = prediction(top=[("eyewear", 0.5), ("apparel", 0.4)])
    wrong = prediction(top=[("apparel", 0.5), ("eyewear", 0.4)])
    result = predictions_review_bulk(
        prediction_ids=[right.pk, wrong.pk],
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
    )
    assert result.reviewed == 2
    assert reload(right).status == Prediction.Status.ACCEPTED
    assert reload(wrong).status == Prediction.Status.CORRECTED
    assert set(Review.objects.values_list("decision", flat=True)) == {
        "accepted",
        "corrected",
    }
    assert {reload(p.image.product).category.slug for p in (right, wrong)} == {
        "eyewear"
    }


def test_bulk_reports_what_it_left_alone(reviewer, other_reviewer):
    fresh = prediction(top=TOP5)
    decided = prediction(top=TOP5)
    prediction_review(
        prediction_id=decided.pk, reviewer=other_reviewer, decision="accepted"
    )
    failed = prediction(top=None)
    replaced = prediction(top=TOP5, is_current=False)
    ids = [fresh.pk, decided.pk, failed.pk, replaced.pk, 999999, fresh.pk]
    result = predictions_review_bulk(
        prediction_ids=ids, reviewer=reviewer, decision="accepted"
    )
    assert result.reviewed == 1
    assert result.conflicts == [decided.pk, failed.pk, replaced.pk, 999999]
    assert Review.objects.filter(reviewer=reviewer).count() == 1
    assert reload(decided).status == Prediction.Status.ACCEPTED
    assert reload(failed).status == Prediction.Status.FAILED


def test_bulk_set_category_without_a_category_is_refused(reviewer):
    item = prediction(top=TOP5)
    with pytest.raises(ReviewError):
        predictions_review_bulk(
            prediction_ids=[item.pk], reviewer=reviewer, decision="corrected"
        )
    assert not Review.objects.exists()


def test_bulk_with_nothing_selected_does_nothing(reviewer):
    assert predictions_review_bulk(
        prediction_ids=[], reviewer=reviewer, decision="accepted"
    ) == BulkReviewResult(reviewed=0, conflicts=[])


def test_bulk_skip_records_skips_only(reviewer):
    items = [prediction(top=TOP5) for _ in range(3)]
    result = predictions_review_bulk(
        prediction_ids=[i.pk for i in items], reviewer=reviewer, decision="skipped"
    )
    assert result.reviewed == 3
    assert set(Prediction.objects.values_list("status", flat=True)) == {"needs_review"}
    assert list(review_queue(skipped_by=reviewer)) == []


def test_bulk_labels_of_two_photos_that_disagree_leave_the_category_open(reviewer):
    product = ProductFactory()
    first = prediction(top=[("apparel", 0.5), ("eyewear", 0.4)], product=product)
    second = prediction(top=[("eyewear", 0.5), ("apparel", 0.4)], product=product)
    predictions_review_bulk(
        prediction_ids=[first.pk, second.pk], reviewer=reviewer, decision="accepted"
    )
    # One label each way: a tie, which decides nothing.
    assert reload(product).category is None
    assert Review.objects.count() == 2


def test_bulk_setting_the_product_category_with_two_photos_keeps_the_later(reviewer):
    product = ProductFactory()
    first = prediction(top=[("apparel", 0.5), ("eyewear", 0.4)], product=product)
    second = prediction(top=[("eyewear", 0.5), ("apparel", 0.4)], product=product)
    predictions_review_bulk(
        prediction_ids=[first.pk, second.pk],
        reviewer=reviewer,
        decision="accepted",
        set_product_category=True,
    )
    assert reload(product).category == category("eyewear")
    assert Review.objects.count() == 2


def _bulk_queries(count, reviewer, assert_max_queries, *, merchant=None):
    items = [prediction(top=TOP5, merchant=merchant) for _ in range(count)]
    with assert_max_queries(BULK_QUERY_BUDGET) as captured:
        result = predictions_review_bulk(
            prediction_ids=[i.pk for i in items],
            reviewer=reviewer,
            decision="accepted",
        )
    assert result.reviewed == count
    return len(captured.captured_queries)


# Savepoint and release, lock-and-read, the state before (3), insert the
# reviews, an update of predictions and one of images per decision, the vote (6
# at most), the state after (3) and its update; then the webhook event: its
# reads (3), the subscriptions of each merchant, the deliveries' insert.
# Measured: 21 for an accept of 5 or of 100 items.
BULK_QUERY_BUDGET = 24


def test_bulk_accept_of_100_items_stays_within_a_fixed_query_budget(
    reviewer, django_assert_max_num_queries
):
    merchant = MerchantFactory()
    small = _bulk_queries(5, reviewer, django_assert_max_num_queries, merchant=merchant)
    large = _bulk_queries(
        100, reviewer, django_assert_max_num_queries, merchant=merchant
    )
    assert large == small
    assert Review.objects.filter(decision="accepted").count() == 105
    assert Product.objects.filter(category_source="reviewer").count() == 105
    assert ProductImage.objects.filter(status="reviewed").count() == 105


def test_bulk_accept_across_100_merchants_stays_within_the_same_budget(
    reviewer, django_assert_max_num_queries
):
    small = _bulk_queries(5, reviewer, django_assert_max_num_queries)
    large = _bulk_queries(100, reviewer, django_assert_max_num_queries)
    assert large == small


def test_bulk_set_category_of_100_items_stays_within_the_budget(
    reviewer, django_assert_max_num_queries
):
    merchant = MerchantFactory()
    items = [prediction(top=TOP5, merchant=merchant) for _ in range(100)]
    with django_assert_max_num_queries(BULK_QUERY_BUDGET):
        result = predictions_review_bulk(
            prediction_ids=[i.pk for i in items],
            reviewer=reviewer,
            decision="corrected",
            category=category("eyewear"),
        )
    assert result.reviewed == 100
    assert Product.objects.filter(category__slug="eyewear").count() == 100
