"""The reviewer's hand: an unusable photo, and undoing any decision."""

import pytest

from catalog.models import CategorySource, ImageStatus
from classification.models import Prediction, Review
from classification.selectors import review_queue
from classification.services.intake import product_update
from classification.services.product_category import products_decide
from classification.services.reviews import (
    DecisionNotFound,
    ReviewConflict,
    ReviewError,
    prediction_review,
    predictions_review_bulk,
    predictions_review_bulk_preview,
    reviews_undo,
)
from classification.services.training.labels import catalog_labels
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import (
    TOP5,
    category,
    image,
    prediction,
    with_merchant_category,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_reviewer():
    return UserFactory(is_staff=True, username="grace")


def reload(row):
    row.refresh_from_db()
    return row


def state(item):
    """What a decision may change: the product, the photo, the prediction."""
    item = reload(item)
    product = item.image.product
    return (
        product.category_id,
        product.category_source,
        item.image.status,
        item.status,
        item.review_reason,
    )


# --- unusable ------------------------------------------------------------------


def test_an_unusable_photo_leaves_the_queue_and_is_never_a_label(reviewer):
    product = with_merchant_category(ProductFactory(), "apparel")
    blurry = prediction(top=TOP5, product=product)
    fine = prediction(top=TOP5, image_row=image(product=product))
    review = prediction_review(
        prediction_id=blurry.pk,
        reviewer=reviewer,
        decision="unusable",
        unusable_reason="too_blurry",
    )
    assert (review.decision, review.unusable_reason) == ("unusable", "too_blurry")
    assert review.final_category is None
    assert (reload(blurry).status, blurry.image.status) == ("unusable", "unusable")
    assert list(review_queue()) == [fine]
    labels = catalog_labels()
    # The merchant's category labels the product's other photo, not this one.
    assert blurry.image_id not in labels
    assert labels[fine.image_id] == category("apparel").pk


def test_an_unusable_photo_a_reviewer_had_labelled_before_is_no_label(reviewer):
    item = prediction(top=TOP5)
    first = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert catalog_labels() == {item.image_id: category("apparel").pk}
    reviews_undo(user=reviewer, review_id=first.pk)
    prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="unusable",
        unusable_reason="wrong_photo",
    )
    assert catalog_labels() == {}


def test_an_unusable_photo_does_not_vote_for_the_products_category(reviewer):
    product = ProductFactory()
    mug = prediction(
        top=[("kitchen-drinkware", 0.9)],
        status=Prediction.Status.AUTO_ACCEPTED,
        image_row=image(product=product, status=ImageStatus.CLASSIFIED),
    )
    shirt = prediction(top=[("apparel", 0.95)], image_row=image(product=product))
    products_decide(product_ids=[product.pk])
    assert reload(product).category is None  # 0.95 against 0.9: too close
    prediction_review(
        prediction_id=mug.pk,
        reviewer=reviewer,
        decision="unusable",
        unusable_reason="wrong_photo",
    )
    assert reload(product).category.slug == "apparel"
    assert reload(shirt).status == Prediction.Status.AUTO_ACCEPTED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Say why the photo is unusable"),
        ({"unusable_reason": "ugly"}, "Say why the photo is unusable"),
        (
            {"unusable_reason": "too_blurry", "set_product_category": True},
            "Only an accept or a correction",
        ),
    ],
)
def test_an_unusable_decision_needs_a_known_reason(reviewer, fields, message):
    item = prediction(top=TOP5)
    with pytest.raises(ReviewError, match=message):
        prediction_review(
            prediction_id=item.pk, reviewer=reviewer, decision="unusable", **fields
        )
    assert not Review.all_objects.exists()
    assert reload(item).status == "needs_review"


def test_a_reason_on_another_decision_is_refused(reviewer):
    item = prediction(top=TOP5)
    with pytest.raises(ReviewError, match="Only an unusable photo takes a reason"):
        prediction_review(
            prediction_id=item.pk,
            reviewer=reviewer,
            decision="accepted",
            unusable_reason="too_blurry",
        )


# --- undo ------------------------------------------------------------------------


def test_undo_restores_the_products_category(reviewer):
    item = prediction(top=TOP5)
    before = state(item)
    assert before[0] is None
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert state(item)[:2] == (category("apparel").pk, CategorySource.REVIEWER)
    result = reviews_undo(user=reviewer, review_id=review.pk)
    assert [r.pk for r in result.undone] == [review.pk]
    assert state(item) == before
    assert list(review_queue()) == [item]
    assert not Review.objects.exists()
    assert Review.all_objects.get().undone_by == reviewer
    assert catalog_labels() == {}


def test_undo_gives_the_merchant_their_category_back(reviewer):
    product = with_merchant_category(ProductFactory(), "footwear")
    item = prediction(top=TOP5, product=product, reason="disagreement")
    other = prediction(
        top=[("footwear", 0.9)],
        status=Prediction.Status.AUTO_ACCEPTED,
        image_row=image(product=product, status=ImageStatus.CLASSIFIED),
    )
    before, other_before = state(item), state(other)
    review = prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="accepted",
        set_product_category=True,
    )
    # The product is now Apparel: the footwear photo is the odd one out.
    assert state(other)[3:] == ("needs_review", "outlier")
    reviews_undo(user=reviewer, review_id=review.pk)
    assert state(item) == before
    assert state(other) == other_before
    assert reload(product).category_source == CategorySource.MERCHANT


def test_undo_of_an_unusable_decision_puts_the_photo_back(reviewer):
    item = prediction(top=TOP5)
    before = state(item)
    review = prediction_review(
        prediction_id=item.pk,
        reviewer=reviewer,
        decision="unusable",
        unusable_reason="not_a_product",
    )
    reviews_undo(user=reviewer, review_id=review.pk)
    assert state(item) == before
    # Decided again after the undo, as if for the first time.
    again = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    assert again.pk != review.pk


def test_undo_is_refused_once_the_product_changed_and_changes_nothing(reviewer):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    product_update(product=item.image.product, category=category("eyewear"))
    after = state(item)
    with pytest.raises(ReviewConflict, match="The product changed since"):
        reviews_undo(user=reviewer, review_id=review.pk)
    assert state(item) == after
    assert Review.objects.filter(pk=review.pk).exists()


def test_undoing_twice_is_a_conflict(reviewer):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    reviews_undo(user=reviewer, review_id=review.pk)
    with pytest.raises(ReviewConflict, match="undone already"):
        reviews_undo(user=reviewer, review_id=review.pk)


def test_another_reviewers_decision_is_not_found_unless_allowed(
    reviewer, other_reviewer
):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="accepted"
    )
    with pytest.raises(DecisionNotFound):
        reviews_undo(user=other_reviewer, review_id=review.pk)
    reviews_undo(user=other_reviewer, review_id=review.pk, others_too=True)
    assert reload(item).status == "needs_review"


def test_undo_of_a_skip_puts_the_item_back_in_the_reviewers_flow(reviewer):
    item = prediction(top=TOP5)
    review = prediction_review(
        prediction_id=item.pk, reviewer=reviewer, decision="skipped"
    )
    assert list(review_queue(skipped_by=reviewer)) == []
    reviews_undo(user=reviewer, review_id=review.pk)
    assert list(review_queue(skipped_by=reviewer)) == [item]


def test_a_bulk_decision_is_undone_as_one(reviewer):
    items = [prediction(top=TOP5) for _ in range(3)]
    before = [state(i) for i in items]
    result = predictions_review_bulk(
        prediction_ids=[i.pk for i in items],
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
        set_product_category=True,
    )
    assert {state(i)[0] for i in items} == {category("eyewear").pk}
    undone = reviews_undo(user=reviewer, batch=result.batch)
    assert (len(undone.undone), undone.conflicts) == (3, [])
    assert [state(i) for i in items] == before


def test_one_decision_of_a_bulk_is_undone_alone(reviewer):
    items = [prediction(top=TOP5) for _ in range(2)]
    result = predictions_review_bulk(
        prediction_ids=[i.pk for i in items], reviewer=reviewer, decision="accepted"
    )
    first = Review.objects.get(prediction=items[0])
    reviews_undo(user=reviewer, review_id=first.pk)
    assert reload(items[0]).status == "needs_review"
    assert reload(items[1]).status == "accepted"
    assert result.batch == Review.objects.get().batch


# --- what a bulk decision would change -----------------------------------------


def test_the_bulk_preview_tells_what_would_change_and_changes_nothing(reviewer):
    shop = with_merchant_category(ProductFactory(name="Boots"), "footwear")
    items = [
        prediction(top=TOP5, product=shop),
        prediction(top=[("eyewear", 0.9)], status=Prediction.Status.AUTO_ACCEPTED),
        prediction(top=TOP5),
    ]
    products_decide(product_ids=[items[1].image.product_id])  # Eyewear, by the model
    before = [state(i) for i in items]
    preview = predictions_review_bulk_preview(
        prediction_ids=[i.pk for i in items],
        reviewer=reviewer,
        decision="corrected",
        category=category("eyewear"),
        set_product_category=True,
    )
    assert preview.photos == 3
    assert preview.low_confidence == 2
    changes = {name: (old, new) for _, name, old, new in preview.category_changes}
    assert changes["Boots"] == ("Footwear", "Eyewear")
    assert len(changes) == 2  # the third product is in Eyewear already
    assert [state(i) for i in items] == before
    assert not Review.all_objects.exists()
