"""axe-core on every page a merchant, a reviewer or a platform admin works in:
no serious or critical violation, at laptop and tablet widths (screenshots go
to test-artifacts/)."""

import numpy as np
import pytest
from django.contrib.auth.models import Group

from classification.models import ModelVersion
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data
from tests.dashboard.chartjs import local_chartjs
from tests.e2e.axe import axe_violations
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.sessions import signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (1366, 768)


@pytest.fixture
def browser(chromium, live_server):
    return chromium


def _world(merchant):
    version = queue_data.model_version("imagenet-taxonomy-v1")
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.Status.ACTIVE)
    product = ProductFactory(merchant=merchant, name="Linen shirt", price="39.90")
    for top in ([("apparel", 0.42), ("footwear", 0.3)], [("apparel", 0.95)], None):
        queue_data.prediction(
            product=product,
            version=version,
            top=top,
            embedding=np.ones(8, dtype=np.float32).tobytes(),
            with_file=True,
        )
    for n in range(3):
        ProductFactory(merchant=merchant, name=f"Mug {n}")
    return product, version


def _check(page, base_url, name, problems):
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_load_state("networkidle")
        for violation in axe_violations(page, base_url):
            problems.append(
                f"{name} at {width}px: {violation['impact']} {violation['id']} "
                f"({violation['help']}) at {violation['nodes']}"
            )
        page.screenshot(path=SCREENSHOTS / f"a11y-{name}-{width}.png", full_page=True)


def _visit(page, base_url, pages, problems):
    for name, path in pages:
        page.goto(f"{base_url}{path}")
        _check(page, base_url, name, problems)


def test_every_page_passes_axe(browser, live_server, merchant_user, settings):
    settings.VITRINE_CHARTJS_URL = local_chartjs()
    SCREENSHOTS.mkdir(exist_ok=True)
    product, version = _world(merchant_user.membership.merchant)
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="Platform admins"))
    problems: list[str] = []
    base = live_server.url

    anonymous = browser.new_context()
    page = anonymous.new_page()
    page.goto(f"{base}/accounts/login/")
    _check(page, base, "login", problems)
    anonymous.close()

    merchant = signed_in_context(browser, live_server, merchant_user)
    page = merchant.new_page()
    pages = [
        ("product-tiles", "/?view=tiles"),
        ("product-table", "/?view=table"),
        ("product-detail", f"/products/{product.pk}/"),
        ("product-form", "/products/new/"),
    ]
    _visit(page, base, pages, problems)
    # The form again, with its errors beside the fields.
    page.goto(f"{base}/products/new/")
    page.click("button[type=submit]")
    page.wait_for_selector("#product-form .errorlist")
    _check(page, base, "product-form-errors", problems)
    merchant.close()

    staff = signed_in_context(browser, live_server, admin)
    pages = [
        ("review-queue", "/admin/classification/reviewitem/"),
        ("review-work", "/admin/classification/reviewitem/work/"),
        ("dashboard", "/dashboard/"),
        ("model-versions", "/admin/classification/modelversion/"),
        ("model-version", f"/admin/classification/modelversion/{version.pk}/change/"),
    ]
    _visit(staff.new_page(), base, pages, problems)
    staff.close()
    assert not problems, "\n".join(problems)
