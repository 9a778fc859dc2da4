"""The merchant's own summary above their product list."""

import json

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import ImageStatus
from tests.catalog.factories import ProductFactory
from tests.dashboard.factories import ImageFactory


def _summary_data(response) -> dict:
    html = response.content.decode()
    marker = '<script id="merchant-summary-data" type="application/json">'
    return json.loads(html.split(marker)[1].split("</script>")[0])


def _images(merchant, statuses):
    product = ProductFactory(merchant=merchant)
    for status in statuses:
        ImageFactory(product=product, status=status, created_at=timezone.now())


def test_product_list_shows_the_merchants_own_figures_only(
    merchant_client, merchant, other_membership
):
    _images(
        merchant,
        [ImageStatus.CLASSIFIED, ImageStatus.CLASSIFIED, ImageStatus.NEEDS_REVIEW],
    )
    _images(
        other_membership.merchant,
        [ImageStatus.FAILED] * 4 + [ImageStatus.NEEDS_REVIEW] * 5,
    )
    response = merchant_client.get(reverse("catalog:product-list"))
    assert response.status_code == 200
    summary = response.context["merchant_summary"]
    assert (summary["uploaded"], summary["sorted"], summary["waiting"]) == (3, 2, 1)
    assert summary["failed"] == 0
    assert summary["auto_rate"] == round(2 / 3, 4)
    html = response.content.decode()
    assert "Your last 30 days" in html
    assert "66.7 %" in html
    chart = _summary_data(response)
    assert sum(sum(d["data"]) for d in chart["datasets"]) == 3
    assert 'src="/static/js/merchant_summary.js"' in html

    other = Client()
    other.force_login(other_membership.user)
    theirs = other.get(reverse("catalog:product-list")).context["merchant_summary"]
    assert (theirs["uploaded"], theirs["failed"], theirs["waiting"]) == (9, 4, 5)


def test_new_merchant_sees_an_explaining_empty_summary_without_chart_js(
    merchant_client, merchant
):
    response = merchant_client.get(reverse("catalog:product-list"))
    html = response.content.decode()
    assert "No photos in the last 30 days." in html
    assert "merchant_summary.js" not in html
    assert "chart.umd.min.js" not in html


def test_summary_keeps_the_product_list_within_its_query_budget(
    merchant_client, merchant, django_assert_max_num_queries
):
    _images(merchant, [ImageStatus.CLASSIFIED] * 5)
    with django_assert_max_num_queries(8):
        response = merchant_client.get(reverse("catalog:product-list"))
    assert response.status_code == 200
