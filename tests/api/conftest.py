"""Clients for each role of the API, signed in with real tokens."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.accounts.factories import UserFactory


def token_client(user) -> APIClient:
    _, key = api_token_create(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    return client


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Each test starts with empty rate-limit counters."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def other_api(other_membership):
    return token_client(other_membership.user)


@pytest.fixture
def staff_api(db):
    """A platform admin (staff in the Platform admins group): everything on
    every merchant."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Platform admins")[0])
    return token_client(user)


@pytest.fixture
def plain_staff_api(db):
    """Staff in no group: no role of the platform."""
    return token_client(UserFactory(is_staff=True))


@pytest.fixture
def reviewer_api(db):
    """Staff in the Reviewers group."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="Reviewers")[0])
    return token_client(user)


@pytest.fixture
def superuser_api(staff_user):
    return token_client(staff_user)


@pytest.fixture
def nobody_api(db):
    """Signed in, but neither staff nor any merchant's member."""
    return token_client(UserFactory())


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Check the shared error shape and return the error body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def assert_list_queries_flat(client, url, *, large: int, budget: int, params=None):
    """The list costs the same queries for 2 items a page as for ``large``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # a token's first use records its time: one write, once
    counts = []
    for size in (2, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {**(params or {}), "page_size": size})
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= budget, counts
