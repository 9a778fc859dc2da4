"""Every kind of page works under the Content-Security-Policy: loaded in headless
Chromium, none reports a violation, and each one was sent with the policy."""

import pytest
from django.test import Client

from catalog.models import Product
from tests.accounts.factories import UserFactory
from tests.dashboard.chartjs import local_chartjs
from tests.e2e.test_dashboard_browser import ALL_PAINTED, _seed

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Reported by the page itself, whatever the browser's wording in the console.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(
    `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
  );
});
"""


def _signed_in(chromium, live_server, user):
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    context.add_init_script(REPORT_VIOLATIONS)
    return context


def _visit(context, url: str, *, ready: str, drawn: bool = False) -> list[str]:
    """Open the page, wait until ``ready`` shows (and its charts are drawn),
    and return what went wrong."""
    problems = []
    page = context.new_page()
    page.set_default_timeout(30_000)

    def console(message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            problems.append(f"{url}: {text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"{url}: {error}"))
    answer = page.goto(url)
    if "content-security-policy" not in answer.headers:
        problems.append(f"{url}: sent without a Content-Security-Policy")
    page.wait_for_selector(ready)
    if drawn:
        page.wait_for_function(ALL_PAINTED)
    page.wait_for_load_state("networkidle")
    page.close()
    return problems


def test_pages_admin_dashboard_and_api_docs_run_without_csp_violations(
    live_server, settings, transactional_db, chromium
):
    settings.VITRINE_CHARTJS_URL = local_chartjs()
    owner = _seed()
    product = Product.objects.filter(merchant=owner.membership.merchant).first()
    image = product.images.first()
    staff = UserFactory(is_staff=True, is_superuser=True)
    base = live_server.url
    problems = []

    anonymous = chromium.new_context()
    anonymous.add_init_script(REPORT_VIOLATIONS)
    problems += _visit(anonymous, f"{base}/accounts/login/", ready="#id_username")
    problems += _visit(anonymous, f"{base}/admin/login/", ready="#id_username")
    anonymous.close()

    merchant = _signed_in(chromium, live_server, owner)
    problems += _visit(
        merchant, f"{base}/", ready=".merchant-summary canvas", drawn=True
    )
    problems += _visit(merchant, f"{base}/products/new/", ready="#id_sku")
    problems += _visit(merchant, f"{base}/products/{product.pk}/", ready="#id_file")
    merchant.close()

    admin = _signed_in(chromium, live_server, staff)
    problems += _visit(
        admin, f"{base}/dashboard/", ready="#dashboard canvas", drawn=True
    )
    problems += _visit(admin, f"{base}/admin/", ready="#content-main")
    problems += _visit(admin, f"{base}/admin/catalog/product/", ready="#result_list")
    problems += _visit(
        admin, f"{base}/admin/catalog/product/{product.pk}/change/", ready="#id_sku"
    )
    problems += _visit(
        admin, f"{base}/admin/catalog/productimage/{image.pk}/change/", ready="form"
    )
    problems += _visit(
        admin, f"{base}/admin/classification/reviewitem/", ready="#result_list"
    )
    problems += _visit(
        admin, f"{base}/admin/classification/reviewitem/work/", ready="#content"
    )
    problems += _visit(
        admin, f"{base}/admin/classification/modelversion/", ready="#result_list"
    )
    problems += _visit(admin, f"{base}/api/docs/", ready=".swagger-ui .opblock-tag")
    admin.close()
    assert problems == [], "\n".join(problems)
