"""Where a delivery may connect: config.addresses' public-address check, with
webhooks' own setting and error.

A webhook's host is checked when the URL is written and again before each
delivery; the delivery then connects to the addresses that were checked.
"""

from django.conf import settings

from config.addresses import AddressRefused, opener, url_check
from webhooks.errors import WebhookError

__all__ = ["opener", "webhook_url_check"]


def webhook_url_check(*, url: str) -> list[str] | None:
    """Refuse URLs that would make the platform call itself or its network.

    Unless VITRINE_WEBHOOK_ALLOW_PRIVATE is set (tests, closed installs), the host
    must resolve to public addresses only. Return the addresses checked (None
    when private ones are allowed): a delivery connects to those only.
    """
    try:
        return url_check(url=url, allow_private=settings.VITRINE_WEBHOOK_ALLOW_PRIVATE)
    except AddressRefused as error:
        raise WebhookError(error.message) from error
