"""Sign-in lockout: how django-axes counts failed passwords and answers a lock.

Failures are counted in the default cache, once per username and once per client
address (``AXES_LOCKOUT_PARAMETERS``); either count reaching
``VITRINE_LOGIN_FAILURE_LIMIT`` locks. The cache handler is chosen over axes'
database handler: both are shared by every web process once ``CACHE_URL`` names
Redis (the database handler through PostgreSQL), but the cache counts with
atomic increments and forgets a count by itself when its time is up, while the
database handler writes a row on every failure, so that a flood of wrong
passwords becomes a flood of writes and a table to purge.

The lock lasts ``VITRINE_LOGIN_COOLOFF_SECONDS`` from the last failure, and each
further ``limit`` failures double it (up to ``VITRINE_LOGIN_COOLOFF_MAX_SECONDS``):
every attempt during a lock, the right password included, counts and starts the
wait again, so a client that keeps trying backs off, exponentially. A successful
sign-in before the limit clears both counts of that request, as axes does.

The pages (``/accounts/login/``, ``/admin/login/``) answer a lock through
:func:`lockout_response`; the token endpoint raises its own 429 in the API's
error shape.
"""

from datetime import timedelta

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil
from rest_framework.throttling import BaseThrottle

from config.exceptions import error_body

# Counted usernames are kept apart from addresses: a username that reads as an
# address (``127.0.0.1`` is a valid one) must not share that address's count.
USERNAME_KEY_PREFIX = "username:"
_MAX_DOUBLINGS = 30  # far past any cap; keeps 2**n small


class LoginFailureCacheHandler(AxesCacheHandler):
    """axes' cache handler, looking the cache up on each use.

    Django gives each thread its own cache connection; axes' handler keeps the
    one of the thread that first made it.
    """

    def __init__(self) -> None:  # the cache is a property here
        pass

    @property
    def cache(self):
        return get_cache()

    def reset_attempts(self, *, ip_address=None, username=None, ip_or_username=False):
        if username is not None:
            username = USERNAME_KEY_PREFIX + username
        return super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )


def failure_limit(request: HttpRequest | None, credentials: dict | None) -> int:
    return max(1, settings.VITRINE_LOGIN_FAILURE_LIMIT)


def lockout_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name a failure is counted under (axes' ``AXES_USERNAME_CALLABLE``)."""
    if credentials:
        username = credentials.get("username")
    else:  # a DRF request carries its parsed body in .data
        username = getattr(request, "data", request.POST).get("username")
    if not isinstance(username, str) or not username:
        return None
    return USERNAME_KEY_PREFIX + username


def client_address(request: HttpRequest) -> str:
    """The client's address as the API's throttles see it (``NUM_PROXIES``)."""
    return BaseThrottle().get_ident(request)


def cool_off(request: HttpRequest | None) -> timedelta:
    """How long a lock lasts after this request's failure (``AXES_COOLOFF_TIME``)."""
    base = max(1, settings.VITRINE_LOGIN_COOLOFF_SECONDS)
    longest = max(base, settings.VITRINE_LOGIN_COOLOFF_MAX_SECONDS)
    limit = failure_limit(request, None)
    failures = 0
    if request is not None:
        failures = getattr(request, "axes_failures_since_start", None)
        if failures is None:  # asked while the failure is being counted
            failures = AxesProxyHandler.get_failures(request) + 1
    doublings = min(max(0, failures - limit) // limit, _MAX_DOUBLINGS)
    return timedelta(seconds=min(base * 2**doublings, longest))


def retry_after_seconds(request: HttpRequest) -> int:
    """Seconds until a locked request's client may try again."""
    return int(cool_off(request).total_seconds())


def is_locked_out(request: HttpRequest) -> bool:
    """Whether authenticate() just refused this request for a lock."""
    return bool(getattr(request, "axes_locked_out", False))


def lockout_message(seconds: int) -> str:
    wait = f"{seconds} seconds" if seconds < 60 else _duration(seconds)
    return (
        "Too many failed sign-ins for this account or from this address. "
        f"Try again in {wait}."
    )


def sign_in_succeeded(*, request: HttpRequest, user) -> None:
    """Clear the request's counts after a sign-in that made no session.

    The pages clear them on Django's ``user_logged_in``; the token endpoint
    signs in without a session, so it says so here.
    """
    AxesProxyHandler.user_logged_in(sender=__name__, request=request, user=user)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """429 for a locked sign-in: a page, or the API's error shape under /api/."""
    seconds = retry_after_seconds(request)
    message = lockout_message(seconds)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            error_body("locked_out", message, {"retry_after": seconds}), status=429
        )
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {
                "message": message,
                "retry_at": timezone.now() + timedelta(seconds=seconds),
            },
            status=429,
        )
    response["Retry-After"] = str(seconds)
    return response


def _duration(seconds: int) -> str:
    now = timezone.now()
    return timeuntil(now + timedelta(seconds=seconds), now).replace("\xa0", " ")
