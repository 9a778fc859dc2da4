"""A merchant in a real browser: log in, add a photo, watch it get a category."""

import pytest

from tests.images import photo_jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_merchant_uploads_a_photo_and_sees_its_category(
    page, live_server, merchant_user, password, tmp_path
):
    from tests.catalog.factories import ProductFactory

    product = ProductFactory(
        merchant=merchant_user.membership.merchant, name="Espresso cup"
    )
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(photo_jpeg("coffee"))

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click(f"text={product.name}")
    page.wait_for_url(f"{live_server.url}/products/{product.pk}/")

    page.set_input_files("#id_file", str(photo))
    page.wait_for_selector(".upload-list li.ok")
    page.wait_for_selector(".image-card[data-status=classified]")
    assert page.inner_text("#product-category") == "Kitchen & Drinkware"
    assert page.inner_text("#product-category-source") == "set by model"
    top = page.locator(".image-card .topk li").first.inner_text()
    assert top.startswith("Kitchen & Drinkware")


def test_a_bad_file_gets_a_message_on_the_page(
    page, live_server, merchant_user, password, tmp_path
):
    from tests.catalog.factories import ProductFactory

    product = ProductFactory(merchant=merchant_user.membership.merchant)
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"these are not pixels")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", merchant_user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/products/{product.pk}/")
    page.set_input_files("#id_file", str(bad))
    message = page.wait_for_selector(".upload-list li.error")
    assert "not an image" in message.inner_text()
    assert page.locator(".image-card").count() == 0
