"""The review queue on a laptop and a tablet, and undo by keyboard, in headless
Chromium. Screenshots are kept under test-artifacts/."""

import pytest
from django.contrib.auth.models import Group

from classification.models import Prediction, Review
from tests.accounts.factories import MerchantFactory, UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.queue_data import TOP5, prediction
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.sessions import signed_in_context

LIST_URL = "/admin/classification/reviewitem/"
WORK_URL = f"{LIST_URL}work/"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(chromium, live_server):
    return chromium


@pytest.fixture
def reviewer():
    user = UserFactory(is_staff=True, username="ada")
    user.groups.add(Group.objects.get(name="Reviewers"))
    return user


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (768, 1024)])
def test_the_queue_list_fits_without_sideways_scrolling(
    browser, live_server, reviewer, width, height
):
    merchant = MerchantFactory(name="Northwind Outfitters and Sons International")
    for n in range(6):
        product = ProductFactory(
            merchant=merchant,
            name=f"Organic cotton crew-neck T-shirt with long sleeves, model {n}",
            sku=f"NW-TSHIRT-LONGSLEEVE-{n:04d}",
        )
        prediction(top=TOP5, product=product, with_file=True)
    page = signed_in_context(
        browser, live_server, reviewer, viewport={"width": width, "height": height}
    ).new_page()
    page.goto(f"{live_server.url}{LIST_URL}")
    assert page.locator("#result_list tbody tr").count() == 6
    assert page.locator("#searchbar").is_visible()
    shot(page, f"review-queue-list-{width}")
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert overflow[0] <= overflow[1], overflow
    # Nor does the table scroll sideways inside its own box.
    results = page.evaluate(
        "() => { const r = document.querySelector('.results');"
        " return [r.scrollWidth, r.clientWidth]; }"
    )
    assert results[0] <= results[1], results
    table = page.locator("#result_list").bounding_box()
    filters = page.locator("#changelist-filter").bounding_box()
    assert filters is not None and not boxes_overlap(table, filters)
    # The search box finds a product by its SKU.
    page.fill("#searchbar", "NW-TSHIRT-LONGSLEEVE-0003")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list tbody tr").count() == 1


def test_u_undoes_the_last_decision_on_the_work_page(browser, live_server, reviewer):
    item = prediction(top=TOP5, with_file=True)
    product = item.image.product
    assert product.category is None
    page = signed_in_context(browser, live_server, reviewer).new_page()
    page.goto(f"{live_server.url}{WORK_URL}")
    page.wait_for_selector("#rq-item")
    page.keyboard.press("a")
    page.wait_for_selector("#rq-empty")
    product.refresh_from_db()
    assert product.category.slug == "apparel"
    assert page.locator("ul.messagelist li.success form.rq-undo").count() == 1
    assert page.locator("#rq-undo-last").is_visible()
    shot(page, "review-work-after-decision")

    page.keyboard.press("u")
    page.wait_for_selector("#rq-item")
    shot(page, "review-work-after-undo")
    assert page.locator("#rq-item").get_attribute("data-item") == str(item.pk)
    assert (
        "everything is as it was before"
        in page.locator("ul.messagelist li.success").inner_text()
    )
    product.refresh_from_db()
    item.refresh_from_db()
    assert product.category is None
    assert (item.status, item.review_reason) == (
        Prediction.Status.NEEDS_REVIEW,
        "low_confidence",
    )
    assert Review.all_objects.get().undone_at is not None
    assert not Review.objects.exists()

    # The history shows it, undone.
    page.click("#rq-my-decisions")
    page.wait_for_selector("#rq-history")
    shot(page, "review-my-decisions")
    assert page.locator("#rq-history tbody tr.undone").count() == 1


def test_the_merchant_sees_the_odd_photo_and_the_unusable_one(
    browser, live_server, reviewer, merchant_user
):
    from catalog.models import ImageStatus
    from classification.services.product_category import products_decide
    from classification.services.reviews import prediction_review
    from tests.classification.queue_data import image

    product = ProductFactory(
        merchant=merchant_user.membership.merchant, name="Logo T-shirt"
    )
    for p in (0.76, 0.85, 0.93):
        prediction(
            top=[("apparel", p)],
            status=Prediction.Status.AUTO_ACCEPTED,
            image_row=image(
                product=product, status=ImageStatus.CLASSIFIED, with_file=True
            ),
        )
    prediction(
        top=[("kitchen-drinkware", 0.95)],
        image_row=image(product=product, with_file=True),
    )
    blurry = prediction(top=TOP5, image_row=image(product=product, with_file=True))
    products_decide(product_ids=[product.pk])
    prediction_review(
        prediction_id=blurry.pk,
        reviewer=reviewer,
        decision="unusable",
        unusable_reason="too_blurry",
    )
    page = signed_in_context(browser, live_server, merchant_user).new_page()
    page.goto(f"{live_server.url}/products/{product.pk}/")
    flags = page.locator(".photo-flag").all_inner_texts()
    shot(page, "product-page-flags")
    assert "This photo does not look like the rest of the product." in flags
    assert any(
        f.startswith("A reviewer marked this photo unusable: too blurry") for f in flags
    )
    assert page.locator(".review-reason").all_inner_texts() == [
        "Waits for review: not like the product's other photos."
    ]
