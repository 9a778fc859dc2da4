"""The model version report in headless Chromium: the precision/coverage curve
drawn under the strict CSP, the activation comparison, and the threshold
proposal; screenshots go to test-artifacts/."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from catalog.models import Category, CategorySource
from classification.services.versions import model_version_ensure_default
from tests.accounts.factories import UserFactory
from tests.catalog.factories import ProductFactory
from tests.classification.training_fixtures import (  # noqa: F401
    shape_categories,
    shapes_artifact,
    shapes_dir,
    shapes_version,
)
from tests.dashboard.chartjs import local_chartjs
from tests.e2e.sessions import signed_in_context
from tests.e2e.test_dashboard_browser import _watch_errors
from tests.services import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
PAINTED = """
() => {
  const canvas = document.getElementById("precision-coverage");
  if (!canvas) return 0;
  const data = canvas.getContext("2d")
    .getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}
"""


def test_the_version_report_draws_its_curve_and_activation_asks_first(
    live_server,
    settings,
    transactional_db,
    chromium,
    shapes_version,  # noqa: F811
):
    settings.VITRINE_CHARTJS_URL = local_chartjs()
    settings.VITRINE_CHARTJS_INTEGRITY = ""
    model_version_ensure_default()
    ProductFactory(
        category=Category.objects.get(slug="apparel"),
        category_source=CategorySource.MERCHANT,
    )
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="Platform admins"))
    context = signed_in_context(chromium, live_server, admin)
    page = context.new_page()
    errors = _watch_errors(page)
    ARTIFACTS.mkdir(exist_ok=True)

    url = reverse("admin:classification_modelversion_change", args=[shapes_version.pk])
    page.goto(f"{live_server.url}{url}")
    page.wait_for_function(f"({PAINTED})() > 500")
    assert page.locator('input[name="_save"]').count() == 0
    assert page.locator("a.deletelink").count() == 0
    page.select_option("#curve-category", "blue-squares")
    page.wait_for_function(f"({PAINTED})() > 500")
    page.screenshot(path=ARTIFACTS / "model-version-report.png", full_page=True)

    page.get_by_text("Compare with the active version and activate").click()
    assert page.get_by_text("cannot predict 1 categories").is_visible()
    page.screenshot(path=ARTIFACTS / "model-version-activate.png", full_page=True)
    page.get_by_role("button", name=f"Activate {shapes_version.name}").click()
    shapes_version.refresh_from_db()
    assert shapes_version.status == "active"

    page.goto(
        f"{live_server.url}{reverse('admin:classification_modelversion_thresholds')}"
        "?target_precision=0.9"
    )
    assert page.locator("#threshold-proposal").is_visible()
    page.screenshot(path=ARTIFACTS / "thresholds-proposal.png", full_page=True)
    assert errors == []
    context.close()
