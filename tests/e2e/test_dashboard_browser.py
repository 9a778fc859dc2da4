"""The dashboard in headless Chromium: charts drawn on seeded data, filters that
redraw them, and the merchant's summary; screenshots at laptop and tablet sizes
go to test-artifacts/."""

import io
import random
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from PIL import Image

from catalog.models import ImageStatus
from classification.models import ModelVersion, Prediction, Review
from tests.accounts.factories import MembershipFactory, MerchantFactory, UserFactory
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.dashboard.chartjs import local_chartjs
from tests.dashboard.factories import (
    ImageFactory,
    ModelVersionFactory,
    PredictionFactory,
    ReviewFactory,
)
from tests.e2e.sessions import session_cookie
from tests.services import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"laptop": (1366, 768), "tablet": (768, 1024)}
# Counts, per visible canvas, the pixels something was drawn on (the canvas
# starts fully transparent).
PAINTED = """
() => [...document.querySelectorAll("#dashboard canvas, .merchant-summary canvas")]
  .filter((canvas) => canvas.offsetParent !== null)
  .map((canvas) => {
    const data = canvas.getContext("2d")
      .getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
    return { id: canvas.id, painted, size: canvas.width * canvas.height };
  })
"""
ALL_PAINTED = f"""
() => {{
  const canvases = ({PAINTED})();
  return canvases.length > 0 && canvases.every((c) => c.painted > 800);
}}
"""


def _seed():
    """Thirty days of activity from three merchants, with reviews and failures."""
    rng = random.Random(7)
    now = timezone.now()
    categories = [
        CategoryFactory(slug=f"e2e-{slug}", name=name)
        for slug, name in [
            ("shoes", "Shoes"),
            ("bags", "Bags"),
            ("hats", "Hats"),
            ("mugs", "Mugs"),
            ("lamps", "Lamps"),
        ]
    ]
    old = ModelVersionFactory(name="e2e-v1", status=ModelVersion.Status.RETIRED)
    active = ModelVersionFactory(name="e2e-v2", status=ModelVersion.Status.ACTIVE)
    merchants = [
        MerchantFactory(name=name, slug=name.lower().replace(" ", "-"))
        for name in ("Coffee Corner", "Shoe Box", "Lamp Light")
    ]
    owner = MembershipFactory(merchant=merchants[0]).user
    for m, merchant in enumerate(merchants):
        product = ProductFactory(merchant=merchant)
        for i in range(60 - 15 * m):
            when = now - timedelta(days=rng.randint(0, 29), minutes=rng.randint(0, 600))
            version = old if when < now - timedelta(days=15) else active
            roll = rng.random()
            category = rng.choice(categories)
            if roll < 0.08:
                image = ImageFactory(
                    product=product, status=ImageStatus.FAILED, created_at=when
                )
                PredictionFactory(
                    image=image,
                    model_version=version,
                    status=Prediction.Status.FAILED,
                    confidence=None,
                    latency_ms=None,
                    error=rng.choice(
                        [
                            "The stored image file is missing.",
                            "The file is not an image we can read.",
                        ]
                    ),
                    created_at=when,
                )
                continue
            auto = roll < 0.6
            image = ImageFactory(
                product=product,
                status=ImageStatus.CLASSIFIED if auto else ImageStatus.NEEDS_REVIEW,
                created_at=when,
            )
            prediction = PredictionFactory(
                image=image,
                model_version=version,
                category=category,
                status=(
                    Prediction.Status.AUTO_ACCEPTED
                    if auto
                    else Prediction.Status.NEEDS_REVIEW
                ),
                confidence=rng.uniform(0.6, 1.0) if auto else rng.uniform(0.2, 0.6),
                latency_ms=rng.uniform(30, 90) + (40 if i % 10 == 0 else 0),
                created_at=when + timedelta(seconds=2),
            )
            if not auto and i % 3:
                correct = rng.random() < 0.7
                decided = when + timedelta(hours=rng.randint(1, 40))
                if decided > now:
                    continue
                ReviewFactory(
                    prediction=prediction,
                    decision=(
                        Review.Decision.ACCEPTED
                        if correct
                        else Review.Decision.CORRECTED
                    ),
                    final_category=category if correct else rng.choice(categories),
                    created_at=decided,
                )
                Prediction.objects.filter(pk=prediction.pk).update(
                    status=Prediction.Status.ACCEPTED
                    if correct
                    else Prediction.Status.CORRECTED
                )
    return owner


def _watch_errors(page) -> list[str]:
    """Collect script errors and failed requests (an integrity mismatch is one)."""
    errors = []

    def console(message):
        # Failed requests are reported below, with their address.
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    def response(answer):
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            errors.append(f"{answer.status} {answer.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", response)
    return errors


def _not_blank(png: bytes) -> int:
    """How many distinct colours the screenshot holds (a blank page has one or two)."""
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20)
    return len(colours)


def test_dashboard_draws_every_chart_and_redraws_on_filters(
    live_server, settings, transactional_db, chromium
):
    settings.VITRINE_CHARTJS_URL = local_chartjs()
    owner = _seed()
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="Platform admins"))
    staff_cookie = session_cookie(staff, live_server)
    owner_cookie = session_cookie(owner, live_server)
    ARTIFACTS.mkdir(exist_ok=True)

    browser = chromium
    for name, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies([staff_cookie])
        page = context.new_page()
        errors = _watch_errors(page)
        page.goto(f"{live_server.url}/dashboard/")
        page.wait_for_selector("#dashboard[data-state=ready]", timeout=15000)
        page.wait_for_function(ALL_PAINTED, timeout=15000)
        canvases = page.evaluate(PAINTED)
        assert {c["id"] for c in canvases} == {
            f"chart-{key}"
            for key in (
                "activity",
                "backlog",
                "backlog_age",
                "categories",
                "confidence",
                "outcomes",
                "confusion",
                "latency",
                "failures",
                "merchants",
            )
        }, canvases
        assert all(c["painted"] > 800 for c in canvases), canvases
        assert errors == []
        # Nothing overflows the page sideways at this width.
        assert page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
        )
        png = page.screenshot(
            path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True
        )
        assert _not_blank(png) > 50
        context.close()

    # Filters: one merchant, then a custom period with nothing in it.
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_cookies([staff_cookie])
    page = context.new_page()
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#dashboard[data-state=ready]")
    with page.expect_response(lambda r: "/dashboard/data/" in r.url):
        page.select_option("#id_merchant", label="Shoe Box")
    page.wait_for_function(
        "document.getElementById('dashboard-scope').textContent.includes('Shoe Box')"
    )
    page.wait_for_function(ALL_PAINTED)
    merchant_pk = page.eval_on_selector("#id_merchant", "s => s.value")
    assert f"merchant={merchant_pk}" in page.url
    csv_link = page.get_attribute("[data-csv=activity]", "href")
    assert f"merchant={merchant_pk}" in csv_link
    labels = page.evaluate("Chart.getChart('chart-merchants').data.labels")
    assert labels == ["Shoe Box"]

    page.select_option("#id_period", "custom")
    assert page.is_visible("#id_start")
    page.fill("#id_start", "2001-01-01")
    with page.expect_response(lambda r: "/dashboard/data/" in r.url):
        page.fill("#id_end", "2001-01-31")
        page.dispatch_event("#id_end", "change")
    page.wait_for_selector("#dashboard-empty:not([hidden])")
    assert page.is_visible("[data-chart=activity] .chart-empty")
    assert not page.is_visible("#chart-activity")
    page.screenshot(path=str(ARTIFACTS / "dashboard-empty-period.png"))

    # Bad dates come back as a message, not a broken page.
    page.fill("#id_start", "2001-02-10")
    with page.expect_response(lambda r: "/dashboard/data/" in r.url):
        page.fill("#id_end", "2001-02-01")
        page.dispatch_event("#id_end", "change")
    page.wait_for_selector(".dashboard-status .message.error")
    assert "ends before it starts" in page.inner_text("#dashboard-status")
    context.close()

    # The merchant's own summary above their product list.
    for name, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_cookies([owner_cookie])
        page = context.new_page()
        page.goto(f"{live_server.url}/")
        page.wait_for_selector(".merchant-summary[data-state=ready]")
        page.wait_for_function(ALL_PAINTED)
        assert "Your last 30 days" in page.inner_text(".merchant-summary")
        png = page.screenshot(path=str(ARTIFACTS / f"merchant-summary-{name}.png"))
        assert _not_blank(png) > 50
        context.close()
