"""A deploy check: sign-in failure counts must be shared by every web process."""

from django.conf import settings
from django.core import checks

PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@checks.register(checks.Tags.security, deploy=True)
def sign_in_counts_are_shared(app_configs, **kwargs) -> list[checks.CheckMessage]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        checks.Warning(
            "Failed sign-ins and API rate limits are counted in a cache of this "
            "process only: with several web processes each counts on its own, "
            "and the lockout lets through that many times the limit.",
            hint="Set CACHE_URL to a Redis server, e.g. redis://127.0.0.1:6379/1.",
            id="accounts.W001",
        )
    ]
