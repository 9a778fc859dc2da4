"""Where the platform may connect on a URL it was given: the public-address
check and pinned connections.

A host given by a merchant (a webhook, a photo to fetch for an import) must
resolve to public addresses only (IPv6 forms that embed an IPv4 address
included), checked before each connection. The connection then goes to the
addresses that were checked, so that a second DNS answer cannot point it at the
local network. Webhooks and catalog imports both use it, so it sits below every
app.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

from config.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressRefused(InvalidInput):
    """A URL the platform will not connect to: not http(s), or not public."""

    code = "address_refused"


def url_check(
    *, url: str, allow_private: bool = False, allowed: Iterable[Network] = ()
) -> list[str] | None:
    """Refuse URLs that would make the platform call itself or its network.

    Unless ``allow_private`` (tests, closed installs), the host must resolve to
    public addresses only, or to addresses inside ``allowed`` networks. Return
    the addresses checked (None when private ones are allowed): a connection
    goes to those only (see :func:`opener`), so a second DNS answer cannot
    point it at the local network. Check again before each connection, since
    DNS answers change.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("The URL must be an http:// or https:// address.")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as error:
        raise AddressRefused("The URL's port is not a valid port number.") from error
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as error:
        raise AddressRefused(
            f"The host {parts.hostname!r} does not resolve."
        ) from error
    allowed = list(allowed)
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address_is_public(address) and not any(
            address.version == network.version and address in network
            for network in allowed
        ):
            raise AddressRefused(
                f"The host {parts.hostname!r} is a private or local address."
            )
    return list(dict.fromkeys(info[4][0] for info in infos))


# IPv6 prefixes that carry an IPv4 address in their last 32 bits and that
# ipaddress has no property for: NAT64's well-known prefix (RFC 6052) and the
# deprecated IPv4-compatible addresses (RFC 4291, ::a.b.c.d).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Local-use NAT64 (RFC 8215): the IPv4 address may sit anywhere after the
# prefix, and it only ever leads to a network of the operator's own.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether the platform may connect to ``address`` for a merchant.

    It must be global, and so must any IPv4 address an IPv6 one embeds: a
    translator or tunnel (NAT64, 6to4, Teredo, a dual stack's mapped form) could
    otherwise carry the connection to a private IPv4 network. The check does not
    trust ipaddress's tables for these forms, which vary across Python versions.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return False
        for embedded in _embedded_ipv4(address):
            if not embedded.is_global:
                return False
    return address.is_global


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # the relay server and the client
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead anywhere, the local network included: a caller
    # that follows one checks the new address first (HTTPError 3xx here).
    def redirect_request(self, *args, **kwargs):
        return None


def _pinned(connection_class, addresses: list[str] | None):
    """Return a factory for ``connection_class`` that connects to ``addresses``.

    The addresses are tried in order, as a resolver's answers would be. The
    request keeps its host name for the Host header and for TLS (SNI and the
    certificate check); only the TCP connection skips a second DNS lookup.
    """

    def connect_to_addresses(host_port, *args):
        error = None
        for address in addresses:
            try:
                return socket.create_connection((address, host_port[1]), *args)
            except OSError as failure:
                error = failure
        raise error

    def factory(host, **kwargs):
        connection = connection_class(host, **kwargs)
        if addresses:
            connection._create_connection = connect_to_addresses
        return connection

    return factory


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, addresses: list[str] | None) -> None:
        super().__init__()
        self.addresses = addresses

    def http_open(self, req):
        return self.do_open(_pinned(http.client.HTTPConnection, self.addresses), req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, addresses: list[str] | None) -> None:
        super().__init__(context=_TLS_CONTEXT)
        self.addresses = addresses

    def https_open(self, req):
        return self.do_open(
            _pinned(http.client.HTTPSConnection, self.addresses),
            req,
            context=self._context,
        )


# One verifying TLS context (the CA bundle read once), shared by connections.
_TLS_CONTEXT = ssl.create_default_context()


def opener(addresses: list[str] | None) -> urllib.request.OpenerDirector:
    """An opener that connects to ``addresses`` only (any, when None).

    It goes straight to the merchant's server, never through proxies from the
    environment, and never follows redirects.
    """
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        _NoRedirect,
        _PinnedHTTPHandler(addresses),
        _PinnedHTTPSHandler(addresses),
    )
