"""A merchant manages a product's photos in headless Chromium: cover, order by
keyboard and by dragging, delete, a photo of another product used here too,
and a suggestion taken as the category."""

import numpy as np
import pytest

from catalog.models import ImageStatus, ProductImage
from catalog.services import image_upload
from classification.models import ModelVersion
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.sessions import signed_in_context
from tests.images import noise_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMBEDDING = np.ones(8, dtype=np.float32).tobytes()


@pytest.fixture
def browser(chromium, live_server):
    return chromium


def _order(product) -> list[int]:
    return list(product.images.order_by("position", "id").values_list("pk", flat=True))


def _dom_order(page) -> list[int]:
    return [
        int(card.get_attribute("data-image-id"))
        for card in page.locator(".image-card").all()
    ]


def _announced(page, words: str) -> None:
    """Wait until the page has told screen readers ``words``."""
    page.wait_for_function(
        "(words) => document.getElementById('media-announcer').textContent"
        ".includes(words)",
        arg=words,
    )


def _world(merchant):
    version = queue_data.model_version()
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ACTIVE)
    product = ProductFactory(merchant=merchant, name="Linen shirt", sku="SHIRT-1")
    photos = [
        queue_data.prediction(
            product=product,
            version=version,
            top=[("apparel", 0.42 + n / 100), ("footwear", 0.3)],
            embedding=EMBEDDING,
            with_file=True,
        ).image
        for n in range(3)
    ]
    for position, image in enumerate(photos):
        ProductImage.objects.filter(pk=image.pk).update(position=position)
    variant = ProductFactory(merchant=merchant, name="Linen shirt, blue", sku="S-2")
    data = noise_png(77)
    shared, _ = image_upload(
        product=variant, upload=upload(data, "blue.png", "image/png"), user=None
    )
    queue_data.prediction(
        image_row=shared, version=version, top=[("apparel", 0.9)], embedding=EMBEDDING
    )
    ProductImage.objects.filter(pk=shared.pk).update(status=ImageStatus.CLASSIFIED)
    return product, photos, data


def test_a_merchant_manages_the_photos_of_a_product(
    browser, live_server, merchant_user, tmp_path
):
    product, photos, duplicate = _world(merchant_user.membership.merchant)
    context = signed_in_context(browser, live_server, merchant_user)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server.url}/products/{product.pk}/")
    assert _dom_order(page) == [p.pk for p in photos]
    reason = page.locator(".image-card .review-reason").first.inner_text()
    assert "42% is below the 0.60 threshold for Apparel" in reason
    # Model jargon stays behind the details toggle until asked for.
    details = page.locator(".image-card details.tech").first
    assert not details.locator("p").is_visible()
    details.locator("summary").click()
    assert details.locator("p").is_visible()

    # Cover: the second photo.
    second = page.locator(f'.image-card[data-image-id="{photos[1].pk}"]')
    second.get_by_role("button", name="Set as cover").click()
    page.wait_for_selector(f'.image-card.cover[data-image-id="{photos[1].pk}"]')
    assert ProductImage.objects.get(is_cover=True, product=product).pk == photos[1].pk

    # Keyboard: the first photo's "later" button, then the arrow key.
    page.locator(f'.image-card[data-image-id="{photos[0].pk}"] .move-down').focus()
    page.keyboard.press("ArrowDown")
    _announced(page, "position 2 of 3")
    expected = [photos[1].pk, photos[0].pk, photos[2].pk]
    assert _dom_order(page) == expected == _order(product)
    # Focus stays on the moved photo, so a second press moves it again.
    page.keyboard.press("ArrowDown")
    _announced(page, "position 3 of 3")
    expected = [photos[1].pk, photos[2].pk, photos[0].pk]
    assert _dom_order(page) == expected == _order(product)

    # Drag and drop: the last photo onto the first.
    page.drag_and_drop(
        f'.image-card[data-image-id="{photos[0].pk}"]',
        f'.image-card[data-image-id="{photos[1].pk}"]',
    )
    _announced(page, "position 1 of 3")
    expected = [photos[0].pk, photos[1].pk, photos[2].pk]
    assert _dom_order(page) == expected == _order(product)
    page.set_viewport_size({"width": 1366, "height": 900})
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "media-manager-1366.png", full_page=True)

    # Delete the third photo.
    page.locator(f'.image-card[data-image-id="{photos[2].pk}"]').get_by_role(
        "button", name="Delete"
    ).click()
    page.wait_for_function("() => document.querySelectorAll('.image-card').length == 2")
    assert not ProductImage.objects.filter(pk=photos[2].pk).exists()

    # The variant's photo, uploaded here: said so, then used here too.
    path = tmp_path / "blue.png"
    path.write_bytes(duplicate)
    page.set_input_files("#id_file", str(path))
    item = page.wait_for_selector(".upload-list li.elsewhere")
    assert "Linen shirt, blue" in item.inner_text()
    # The live server's test database is one connection for every thread: the
    # share waits for the page's refreshes to end.
    page.wait_for_selector("#image-cards:not([data-polling])", state="attached")
    page.get_by_role("button", name="Use it on this product too").click()
    page.wait_for_function("() => document.querySelectorAll('.image-card').length == 3")
    page.wait_for_selector(".upload-list li >> text=stored once")
    assert product.images.count() == 3
    newest = product.images.order_by("-position").first()
    assert newest.status == ImageStatus.CLASSIFIED  # the stored 90 %, reused
    assert ProductImage.objects.filter(sha256=newest.sha256).count() == 2

    # A suggestion is the product's category in one click.
    page.locator(".image-card").first.get_by_role("button", name="Footwear").click()
    page.wait_for_function(
        "() => document.getElementById('product-category').textContent == 'Footwear'"
    )
    product.refresh_from_db()
    assert product.category.slug == "footwear"
    page.get_by_role("button", name="Clear the list").click()
    assert page.locator(".upload-list li").count() == 0
    page.set_viewport_size({"width": 768, "height": 900})
    page.screenshot(path=SCREENSHOTS / "media-manager-768.png", full_page=True)
    context.close()
