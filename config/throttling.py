"""The API's rate limits: a budget per role, and extra ones for costly views."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class _LiveRateMixin:
    """Read the rate from the settings at request time, not at import time."""

    def __init__(self) -> None:  # the rate depends on the request: see allow_request
        pass

    def _set_rate(self, scope: str) -> None:
        self.scope = scope
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
        self.num_requests, self.duration = self.parse_rate(self.rate)


class RoleRateThrottle(_LiveRateMixin, SimpleRateThrottle):
    """One budget per user, at the rate of the user's role.

    Scopes: ``anon`` (per client address), ``merchant`` and ``staff`` (per user,
    shared by all of a user's tokens and sessions, so making more tokens does not
    buy more requests).
    """

    def allow_request(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            self._set_rate("anon")
        else:
            self._set_rate("staff" if user.is_staff else "merchant")
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ScopedRateThrottle(_LiveRateMixin, SimpleRateThrottle):
    """An extra budget for costly views that set ``throttle_scope``."""

    def allow_request(self, request, view) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        self._set_rate(scope)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
