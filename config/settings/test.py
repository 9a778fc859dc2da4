"""Test settings: local mode (the tests ask for debug), fast hashing,
temporary media, in-process tasks."""

import tempfile

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test gets a folder of its own (tests/conftest.py); this is the fallback.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "vitrine-test-media"  # noqa: F405
STORAGES["default"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": MEDIA_ROOT, "base_url": "/media/"},
}
CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = True
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Audit samples are a random draw of the auto-accepted predictions: a test that
# asserts the queue would depend on which ids it drew. Tests of audits ask for a
# share themselves.
VITRINE_AUDIT_RATE = 0.0
