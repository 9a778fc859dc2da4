"""Photos fetched from URLs a merchant's CSV names, as a webhook delivery
connects: public addresses only, checked before each connection and each
redirect hop, the connection pinned to the checked addresses.

Every fetch is bounded: VITRINE_UPLOAD_MAX_BYTES (a declared Content-Length
over it is refused before the body is read), VITRINE_IMPORT_FETCH_TIMEOUT
seconds for the whole fetch (a server that trickles bytes is cut off too) and
VITRINE_IMPORT_FETCH_MAX_REDIRECTS redirects.
"""

import ipaddress
import time
import urllib.error
from urllib.parse import urljoin

from django.conf import settings

from config.addresses import AddressRefused, opener, url_check
from imports.errors import RowFailed

CHUNK = 64 * 1024


def is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def photo_fetch(*, url: str) -> bytes:
    """GET ``url``; return its body, or raise RowFailed saying why not."""
    deadline = time.monotonic() + settings.VITRINE_IMPORT_FETCH_TIMEOUT
    allowed = [
        ipaddress.ip_network(network)
        for network in settings.VITRINE_IMPORT_FETCH_ALLOW_NETWORKS
    ]
    for _ in range(settings.VITRINE_IMPORT_FETCH_MAX_REDIRECTS + 1):
        try:
            addresses = url_check(url=url, allowed=allowed)
        except AddressRefused as error:
            raise RowFailed("address_refused", f"{url}: {error.message}") from error
        try:
            with opener(addresses).open(url, timeout=_left(deadline, url)) as answer:
                return _read_body(answer, url=url, deadline=deadline)
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location")
            if error.code in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            raise RowFailed(
                "fetch_failed", f"{url}: the server answered {error.code}."
            ) from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)  # a URLError wraps the cause
            if isinstance(reason, TimeoutError):
                raise RowFailed("fetch_timeout", f"{url}: timed out.") from error
            raise RowFailed("fetch_failed", f"{url}: {reason}") from error
    raise RowFailed("too_many_redirects", f"{url}: too many redirects.")


def _left(deadline: float, url: str) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise RowFailed("fetch_timeout", f"{url}: timed out.")
    return left


def _read_body(answer, *, url: str, deadline: float) -> bytes:
    max_bytes = settings.VITRINE_UPLOAD_MAX_BYTES
    too_large = RowFailed(
        "file_too_large", f"{url}: over {max_bytes / 1048576:.0f} MB."
    )
    declared = answer.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    while True:
        # Each read waits at most the socket timeout; the deadline bounds
        # the whole body, so a server that trickles bytes is cut off too.
        chunk = answer.read1(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
        _left(deadline, url)
    if not size:
        raise RowFailed("empty_file", f"{url}: the answer is empty.")
    return b"".join(chunks)
