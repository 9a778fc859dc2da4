"""Local mode (``DJANGO_DEBUG=true``): debug pages, a key for this machine,
static files served as they are."""

from config.settings.base import *  # noqa: F403

DEBUG = True
# Production refuses any key that starts so (production.py, check --deploy).
SECRET_KEY = SECRET_KEY or "django-insecure-local-development-key"  # noqa: F405
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
