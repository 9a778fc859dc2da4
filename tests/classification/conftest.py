"""Fixtures of the classification tests."""

import pytest
from django.core.files.storage import FileSystemStorage

from tests.classification.training_fixtures import (  # noqa: F401
    shape_categories,
    shapes_artifact,
    shapes_dir,
    shapes_version,
)


@pytest.fixture
def reviewer():
    """A staff account (files that need the Reviewers group make their own)."""
    from tests.accounts.factories import UserFactory

    return UserFactory(is_staff=True)


class FlakyStorage(FileSystemStorage):
    """Local storage whose first reads fail like an unreachable object store."""

    failures_left = 0

    def _open(self, name, mode="rb"):
        if FlakyStorage.failures_left > 0:
            FlakyStorage.failures_left -= 1
            raise ConnectionError("object store unreachable")
        return super()._open(name, mode)


@pytest.fixture
def flaky_storage(settings, media_storage):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tests.classification.conftest.FlakyStorage",
            "OPTIONS": {"location": media_storage},
        },
    }
    yield FlakyStorage
    FlakyStorage.failures_left = 0
