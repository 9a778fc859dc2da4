"""The catalog table in headless Chromium: switch to it (remembered), sort,
filter, select products and set their category in one action."""

from decimal import Decimal

import pytest

from catalog.models import CategorySource, Product
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.sessions import signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(chromium, live_server):
    return chromium


def _names(page) -> list[str]:
    return page.locator(".product-table tbody td.name").all_inner_texts()


def test_a_merchant_sorts_filters_and_sets_categories_in_the_table(
    browser, live_server, merchant_user
):
    merchant = merchant_user.membership.merchant
    apparel = queue_data.category("apparel")
    for name, price, category in [
        ("Shirt", "30.00", apparel),
        ("Boot", "90.00", None),
        ("Lamp", "12.50", None),
        ("Coat", "150.00", apparel),
    ]:
        ProductFactory(
            merchant=merchant,
            name=name,
            price=Decimal(price),
            category=category,
            category_source=CategorySource.MODEL if category else "",
        )
    context = signed_in_context(browser, live_server, merchant_user)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Table").click()
    page.wait_for_selector(".product-table")
    # Remembered: the plain list is the table now.
    page.goto(f"{live_server.url}/")
    page.wait_for_selector(".product-table")

    page.get_by_role("link", name="Price").click()
    page.wait_for_url("**sort=price**")
    assert _names(page) == ["Lamp", "Shirt", "Boot", "Coat"]
    page.get_by_role("link", name="Price").click()
    page.wait_for_url("**sort=-price**")
    assert _names(page) == ["Coat", "Boot", "Shirt", "Lamp"]
    header = page.locator("th[aria-sort]")
    assert header.get_attribute("aria-sort") == "descending"

    page.select_option("#id_category", "none")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**category=none**")
    assert _names(page) == ["Boot", "Lamp"]  # still sorted by price, descending

    page.check("#select-all")
    assert page.inner_text("#bulk-count") == "2 products selected"
    page.select_option("#bulk-category", "footwear")
    page.get_by_role("button", name="Set category").click()
    page.wait_for_selector("text=Set the category of 2 products to Footwear.")
    assert _names(page) == []  # none is uncategorised any more
    for product in Product.objects.filter(name__in=["Boot", "Lamp"]):
        assert product.category.slug == "footwear"
        assert product.category_source == CategorySource.MERCHANT
    assert Product.objects.get(name="Shirt").category_source == CategorySource.MODEL

    page.goto(f"{live_server.url}/?view=table&source=merchant&sort=name")
    assert _names(page) == ["Boot", "Lamp"]
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in (1366, 768):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SCREENSHOTS / f"catalog-table-{width}.png", full_page=True)
    context.close()
