"""The API's Swagger UI renders in a browser from our own files, with no CDN."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_lists_the_endpoints_without_outside_requests(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag")
    tags = page.locator(".swagger-ui .opblock-tag").all_inner_texts()
    assert {"products", "images", "predictions", "webhooks"} <= {
        tag.split("\n")[0].strip() for tag in tags
    }
    page.wait_for_selector('[data-path="/api/v1/products/{id}/images/"]')
    assert requested, "the page loaded nothing"
    assert all(url.startswith(live_server.url) for url in requested), requested
