"""Fixtures shared by the whole suite.

Service fixtures (PostgreSQL, Redis, the S3 server) live in tests/services.py;
a test that needs a missing service fails under CI=true and is skipped otherwise.
"""

import pytest

from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory

pytest_plugins = ["tests.services"]


@pytest.fixture
def membership(db):
    return MembershipFactory()


@pytest.fixture
def merchant(membership):
    return membership.merchant


@pytest.fixture
def merchant_user(membership):
    return membership.user


@pytest.fixture
def merchant_client(client, merchant_user):
    """A test client signed in as the owner of ``merchant``."""
    client.force_login(merchant_user)
    return client


@pytest.fixture
def merchant_api(merchant_user):
    """An API client holding a token of the merchant's owner."""
    from tests.api.conftest import token_client

    return token_client(merchant_user)


@pytest.fixture
def other_membership(db):
    return MembershipFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture(autouse=True)
def media_storage(settings, tmp_path):
    """Each test stores files in an empty folder of its own."""
    root = tmp_path / "media"
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": root,
                "base_url": "/media/",
                "allow_overwrite": True,
            },
        },
    }
    return root


@pytest.fixture
def other_client(other_membership):
    """A second browser, signed in as the owner of another merchant."""
    from django.test import Client

    other = Client()
    other.force_login(other_membership.user)
    return other


@pytest.fixture(autouse=True)
def seed_rows_after_flush(request):
    """Put back what data migrations load, for tests that commit.

    A test that commits (transactional_db, live_server) ends with a flush that
    empties every table, the taxonomy and the Reviewers and Platform admins
    groups included; the next such test gets them again here, as a fresh
    ``migrate`` would give them.
    """
    marker = request.node.get_closest_marker("django_db")
    commits = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not commits:
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module, loader in [
        ("catalog.migrations.0002_default_taxonomy", "load"),
        ("classification.migrations.0003_reviewers_group", "create_group"),
        ("accounts.migrations.0004_platform_admins_group", "create_group"),
    ]:
        getattr(importlib.import_module(module), loader)(apps, None)


@pytest.fixture(autouse=True)
def training_data_root(settings, tmp_path_factory):
    """Training jobs may read the tests' temporary folders, and nothing else."""
    settings.VITRINE_TRAINING_DATA_ROOT = str(tmp_path_factory.getbasetemp())
    return tmp_path_factory.getbasetemp()


@pytest.fixture(autouse=True)
def fresh_sign_in_counts():
    """Each test starts with no failed sign-ins counted (they live in the cache)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_similarity_indexes():
    """Each test starts with no near-duplicate index in this process: the tests'
    rolled-back rows give their ids to the next test's rows."""
    from classification.services.similarity_index import indexes_clear

    indexes_clear()
    yield
