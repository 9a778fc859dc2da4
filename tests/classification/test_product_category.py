"""A product's category comes from all of its photos, and each photo that waits
for a person says why."""

import pytest

from catalog.models import CategorySource, ImageStatus
from classification.models import Prediction
from classification.selectors import review_queue, review_reason_text
from classification.services.intake import image_upload, product_update
from classification.services.product_category import (
    Vote,
    category_vote,
    products_decide,
)
from tests.catalog.factories import ProductFactory, upload
from tests.classification.queue_data import (
    TOP5,
    category,
    image,
    prediction,
    with_merchant_category,
)
from tests.images import photo_jpeg

pytestmark = pytest.mark.django_db

AUTO = Prediction.Status.AUTO_ACCEPTED
TSHIRTS = [0.76, 0.85, 0.93]


def reload(row):
    row.refresh_from_db()
    return row


def tshirt_product(**fields):
    """A product the model put in Apparel from three T-shirt photos."""
    product = ProductFactory(**fields)
    photos = [
        prediction(
            top=[("apparel", p), ("sports-outdoors", 0.05)],
            status=AUTO,
            image_row=image(product=product, status=ImageStatus.CLASSIFIED),
        )
        for p in TSHIRTS
    ]
    products_decide(product_ids=[product.pk])
    product.refresh_from_db()
    assert (product.category.slug, product.category_source) == ("apparel", "model")
    return product, photos


def test_a_coffee_photo_among_tshirt_photos_keeps_the_products_category(
    django_capture_on_commit_callbacks,
):
    product, tshirts = tshirt_product(name="Logo T-shirt")
    # The real CNN classifies the coffee photo on commit: Kitchen & Drinkware,
    # confidently.
    with django_capture_on_commit_callbacks(execute=True):
        coffee, _ = image_upload(
            product=product, upload=upload(photo_jpeg("coffee")), user=None
        )
    guess = Prediction.objects.get(image=coffee, is_current=True)
    assert guess.category.slug == "kitchen-drinkware"
    assert guess.confidence >= guess.category.auto_accept_threshold

    product.refresh_from_db()
    assert (product.category.slug, product.category_source) == ("apparel", "model")
    assert (guess.status, guess.review_reason) == ("needs_review", "outlier")
    assert reload(coffee).status == ImageStatus.NEEDS_REVIEW
    assert review_reason_text(guess) == "not like the product's other photos"
    assert list(review_queue()) == [guess]
    assert {reload(p).status for p in tshirts} == {AUTO}


def test_photos_that_outvote_the_first_one_move_the_models_category():
    product = ProductFactory()
    mug = prediction(
        top=[("kitchen-drinkware", 0.9), ("apparel", 0.05)],
        status=AUTO,
        image_row=image(product=product, status=ImageStatus.CLASSIFIED),
    )
    products_decide(product_ids=[product.pk])
    assert reload(product).category.slug == "kitchen-drinkware"
    for p in TSHIRTS:
        prediction(
            top=[("apparel", p), ("footwear", 0.05)],
            status=Prediction.Status.NEEDS_REVIEW,
            image_row=image(product=product),
        )
    decided = products_decide(product_ids=[product.pk])
    assert decided.categories == {
        product.pk: (category("kitchen-drinkware").pk, category("apparel").pk)
    }
    assert reload(product).category.slug == "apparel"
    assert (reload(mug).status, mug.review_reason) == ("needs_review", "outlier")
    assert reload(mug.image).status == ImageStatus.NEEDS_REVIEW


def test_the_model_never_changes_a_category_the_merchant_chose():
    product = with_merchant_category(ProductFactory(), "footwear")
    photos = [
        prediction(top=[("apparel", p)], image_row=image(product=product))
        for p in TSHIRTS
    ]
    products_decide(product_ids=[product.pk])
    product = reload(product)
    assert (product.category.slug, product.category_source) == ("footwear", "merchant")
    assert {(reload(p).status, p.review_reason) for p in photos} == {
        ("needs_review", "disagreement")
    }
    assert review_reason_text(photos[0], for_merchant=True) == (
        "disagrees with your category"
    )
    assert "“Footwear”" in review_reason_text(photos[0])


def test_the_merchant_agreeing_with_the_photos_lets_them_through():
    product = with_merchant_category(ProductFactory(), "footwear")
    photos = [
        prediction(top=[("apparel", p)], image_row=image(product=product))
        for p in TSHIRTS
    ]
    product_update(product=product, category=category("apparel"))
    assert {(reload(p).status, p.review_reason) for p in photos} == {(AUTO, "")}


def test_a_doubtful_photo_says_which_threshold_it_missed():
    item = prediction(top=TOP5)
    products_decide(product_ids=[item.image.product_id])
    item = reload(item)
    assert item.review_reason == "low_confidence"
    assert review_reason_text(item) == "41% is below the 0.60 threshold for Apparel"


def test_a_doubtful_product_keeps_no_category_until_a_photo_is_sure():
    product = ProductFactory()
    prediction(top=[("apparel", 0.5)], image_row=image(product=product))
    prediction(top=[("apparel", 0.55)], image_row=image(product=product))
    products_decide(product_ids=[product.pk])
    # 1.05 of weight, but no single photo reached Apparel's 0.60.
    assert reload(product).category is None


@pytest.mark.parametrize(
    ("votes", "winner"),
    [
        ([Vote(1, 0.9, True, False)], 1),
        ([Vote(1, 0.5, False, False)], None),  # nothing sure
        ([Vote(1, 0.9, True, False), Vote(2, 0.8, True, False)], None),  # too close
        (
            [
                Vote(1, 0.76, True, False),
                Vote(1, 0.93, True, False),
                Vote(2, 0.95, True, False),
            ],
            1,
        ),
        ([Vote(1, 1.0, True, True), Vote(2, 0.9, True, False)], None),
        ([], None),
    ],
)
def test_the_vote_needs_a_sure_photo_and_a_clear_lead(votes, winner):
    assert category_vote(votes, margin=0.3) == winner


def test_deciding_again_changes_nothing():
    product, photos = tshirt_product()
    before = [(p.status, p.review_reason) for p in map(reload, photos)]
    decided = products_decide(product_ids=[product.pk])
    assert (decided.categories, decided.moved) == ({}, 0)
    assert [(p.status, p.review_reason) for p in map(reload, photos)] == before
    assert reload(product).category_source == CategorySource.MODEL


def test_the_product_page_flags_the_odd_photo_and_says_why_each_waits(
    merchant, merchant_client
):
    product, _ = tshirt_product(merchant=merchant)
    coffee = prediction(
        top=[("kitchen-drinkware", 0.95)],
        image_row=image(product=product),
    )
    doubtful = prediction(top=[("apparel", 0.41)], image_row=image(product=product))
    products_decide(product_ids=[product.pk])
    html = merchant_client.get(f"/products/{product.pk}/").content.decode()
    assert html.count("This photo does not look like the rest of the product.") == 1
    assert "Waits for review: not like the product&#x27;s other photos." in html
    assert "Waits for review: 41% is below the 0.60 threshold for Apparel." in html
    status = merchant_client.get(f"/products/{product.pk}/status/").json()
    reasons = {i["id"]: i["prediction"]["review_reason"] for i in status["images"]}
    assert reasons[coffee.image_id] == "outlier"
    assert reasons[doubtful.image_id] == "low_confidence"
