"""Staff train a new version in headless Chromium: the form shows only the
fields of the chosen source, and the preview shows what the data holds."""

import pytest

# The preview lists folders with torchvision's helpers: imported here, once,
# rather than in the live server's first request (seconds on a loaded machine).
import classification.ml.data  # noqa: F401
from tests.accounts.factories import UserFactory
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.sessions import signed_in_context
from tests.images import noise_png

URL = "/admin/classification/modelversion/train/"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(chromium, live_server):
    return chromium


@pytest.fixture
def photo_folder(tmp_path):
    root = tmp_path / "shop-photos"
    for label, count in (("Footwear", 3), ("Eyewear", 2), ("gizmos", 2)):
        (root / label).mkdir(parents=True)
        for i in range(count):
            (root / label / f"{i}.png").write_bytes(noise_png(i))
    (root / "Eyewear" / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def visible(page, name: str) -> bool:
    return page.locator(f".form-row.field-{name}").is_visible()


@pytest.mark.parametrize("width", [1366, 768])
def test_the_form_shows_the_sources_fields_and_previews_the_data(
    browser, live_server, photo_folder, width
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    context = signed_in_context(browser, live_server, staff)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}{URL}")
    # The catalog needs no path: no folder, no CSV fields.
    assert page.locator("#id_source_0").is_checked()
    assert not visible(page, "data")
    assert not visible(page, "labels")
    assert visible(page, "mode")

    page.get_by_label("A folder with one sub-folder per category").check()
    assert visible(page, "data") and visible(page, "val_data")
    assert not visible(page, "labels") and not visible(page, "image_column")
    page.get_by_label("A folder of photos and a CSV file").check()
    assert visible(page, "labels") and visible(page, "label_column")
    assert not visible(page, "val_data")
    page.get_by_label("Fashion-MNIST").check()
    assert visible(page, "data") and not visible(page, "mode")

    page.get_by_label("A folder with one sub-folder per category").check()
    page.get_by_label("Data folder").fill(str(photo_folder))
    page.get_by_role("button", name="Preview the data").click()
    preview = page.locator("#training-preview")
    preview.wait_for()
    text = " ".join(preview.inner_text().split())
    assert "8 photos in 3 categories; 8 opened, 1 unreadable" in text
    assert "1 unreadable" in text
    assert "broken.png" in text
    assert "1 label name no category" in text
    rows = preview.locator("tbody tr")
    assert rows.count() == 3
    assert rows.filter(has_text="gizmos").get_attribute("class") == "unknown-label"
    # The form kept the choice, and shows the folder source's fields still.
    assert page.get_by_label("A folder with one sub-folder per category").is_checked()
    assert visible(page, "data") and not visible(page, "labels")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"training-preview-{width}.png", full_page=True)

    # A path outside the training data: the error sits beside the field.
    page.get_by_label("Data folder").fill("/etc")
    page.get_by_role("button", name="Preview the data").click()
    error = page.locator(".form-row.field-data .field-error")
    error.wait_for()
    assert "inside the training data folder" in error.inner_text()
    assert page.locator("#training-preview").count() == 0
    context.close()
