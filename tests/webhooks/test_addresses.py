"""The address check: no delivery to the platform's own network, whatever the
IPv6 form that hides an IPv4 address."""

import socket

import pytest

from webhooks.models import Event
from webhooks.services import WebhookError, webhook_create


@pytest.fixture
def resolve_to(monkeypatch, settings):
    """Make every host name resolve to the given literal address (no DNS)."""
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = False

    def use(address: str) -> None:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET

        def resolver(host, port, *args, **kwargs):
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

        monkeypatch.setattr(socket, "getaddrinfo", resolver)

    return use


@pytest.mark.parametrize(
    "address",
    [
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "::10.0.0.1",
        "::169.254.169.254",  # a cloud's metadata service
        "::192.168.1.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "64:ff9b::7f00:1",  # NAT64 (RFC 6052) of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215)
    ],
)
def test_an_ipv6_form_of_a_private_ipv4_address_is_refused(
    merchant, resolve_to, address
):
    resolve_to(address)
    with pytest.raises(WebhookError, match="private or local"):
        webhook_create(
            merchant=merchant,
            url="https://hooks.example/",
            events=[Event.IMAGE_CLASSIFIED],
        )


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "64:ff9b::5db8:d70e"],
)
def test_public_addresses_are_accepted(merchant, resolve_to, address):
    resolve_to(address)
    webhook = webhook_create(
        merchant=merchant, url="https://hooks.example/", events=[Event.IMAGE_CLASSIFIED]
    )
    assert webhook.pk
