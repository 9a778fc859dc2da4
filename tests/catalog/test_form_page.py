"""The product form reads clearly: required fields marked, errors beside their
field and tied to it, the photo picker inside its drop zone."""

import re

from django.urls import reverse


def test_required_fields_are_marked_and_the_picker_is_the_drop_zone(
    merchant_client, settings
):
    settings.VITRINE_CURRENCY = "CHF"
    html = merchant_client.get(reverse("catalog:product-create")).content.decode()
    for label in ("SKU", "Product name"):
        assert re.search(rf">{label} <span class=\"required\"", html), label
    assert "Description <span" not in html
    assert "Price (CHF)" in html
    zone = html[html.index('<div class="dropzone">') :]
    zone = zone[: zone.index("</div>")]
    assert 'for="id_images"' in zone and 'id="id_images"' in zone
    assert "choose files" in zone


def test_errors_stand_beside_their_field_and_are_announced(merchant_client):
    response = merchant_client.post(
        reverse("catalog:product-create"), {"sku": "", "name": "", "price": "-3"}
    )
    html = response.content.decode()
    assert "Please correct the 3 fields marked below." in html
    for name in ("sku", "name", "price"):
        field = re.search(rf'<input[^>]*id="id_{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field, name
        assert f"id_{name}_error" in field, name
        after = html[html.index(field) :]
        # The error list follows its own input, before the next field starts.
        assert after.index(f'id="id_{name}_error"') < after.index('<div class="field')
