"""Every kind of page works under the Content-Security-Policy: loaded in headless
Chromium, none reports a violation, and each one was sent with the policy."""

import pytest

from catalog.models import Product
from tests.accounts.factories import UserFactory
from tests.dashboard.chartjs import local_chartjs
from tests.e2e.sessions import signed_in_context
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
    context = signed_in_context(chromium, live_server, user)
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

    visits = {
        None: [
            ("/accounts/login/", "#id_username"),
            ("/admin/login/", "#id_username"),
        ],
        owner: [
            ("/", ".merchant-summary canvas"),
            ("/products/new/", "#id_sku"),
            (f"/products/{product.pk}/", "#id_file"),
        ],
        staff: [
            ("/dashboard/", "#dashboard canvas"),
            ("/admin/", "#content-main"),
            ("/admin/catalog/product/", "#result_list"),
            (f"/admin/catalog/product/{product.pk}/change/", "#id_sku"),
            (f"/admin/catalog/productimage/{image.pk}/change/", "form"),
            ("/admin/classification/reviewitem/", "#result_list"),
            ("/admin/classification/reviewitem/work/", "#content"),
            ("/admin/classification/modelversion/", "#result_list"),
            ("/api/docs/", ".swagger-ui .opblock-tag"),
        ],
    }
    for user, pages in visits.items():
        if user is None:
            context = chromium.new_context()
            context.add_init_script(REPORT_VIOLATIONS)
        else:
            context = _signed_in(chromium, live_server, user)
        for path, ready in pages:
            # A page showing charts is ready once they are drawn.
            drawn = ready.endswith(" canvas")
            problems += _visit(context, f"{base}{path}", ready=ready, drawn=drawn)
        context.close()
    assert problems == [], "\n".join(problems)
