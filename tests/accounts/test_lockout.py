"""Sign-in lockout: the login pages and the token endpoint count failed passwords
per username and per client address, lock for a cool-off that grows with
persistence, and answer 429 saying when to retry."""

import time

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.accounts.factories import PASSWORD, UserFactory
from tests.api.conftest import assert_error

LOGIN_URL = "/accounts/login/"
ADMIN_LOGIN_URL = "/admin/login/"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def generous_api_throttles(settings):
    """The API's own per-address budget must not answer before the lockout does."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "10000/minute",
            "token": "10000/minute",
        },
    }


@pytest.fixture
def limit(settings) -> int:
    return settings.VITRINE_LOGIN_FAILURE_LIMIT


def page_login(client, username: str, password: str, *, url: str = LOGIN_URL):
    return client.post(url, {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_locked_page(response, *, minutes: int, wait: str = ""):
    assert response.status_code == 429, response.status_code
    assert response["Retry-After"] == str(minutes * 60)
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert f"Try again in {wait or f'{minutes} minutes'}." in html
    assert 'href="/static/css/vitrine.css"' in html  # the site's own page


@pytest.mark.parametrize("url", [LOGIN_URL, ADMIN_LOGIN_URL])
def test_after_the_limit_the_right_password_is_refused_on_the_login_pages(
    db, limit, url
):
    user = UserFactory(is_staff=True)
    client = Client()
    for _ in range(limit - 1):
        assert page_login(client, user.username, "wrong", url=url).status_code == 200
    assert_locked_page(page_login(client, user.username, "wrong", url=url), minutes=15)
    assert_locked_page(page_login(client, user.username, PASSWORD, url=url), minutes=15)
    assert not signed_in(client)


def test_after_the_limit_the_token_endpoint_answers_429_and_makes_no_token(db, limit):
    user = UserFactory()
    api = APIClient()
    for _ in range(limit - 1):
        response = api.post(TOKEN_URL, {"username": user.username, "password": "x"})
        assert_error(response, 401, "authentication_failed")
    response = api.post(TOKEN_URL, {"username": user.username, "password": "x"})
    assert_error(response, 429, "locked_out")
    response = api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    error = assert_error(response, 429, "locked_out")
    assert error["details"] == {"retry_after": 900}
    assert response["Retry-After"] == "900"
    assert "15 minutes" in error["message"]
    assert not ApiToken.objects.exists()


def test_failures_on_any_of_the_three_count_together(db, limit):
    user = UserFactory(is_staff=True)
    client, api = Client(), APIClient()
    for attempt in range(limit - 1):
        if attempt % 2:
            page_login(client, user.username, "wrong", url=ADMIN_LOGIN_URL)
        else:
            api.post(TOKEN_URL, {"username": user.username, "password": "x"})
    page_login(client, user.username, "wrong")
    response = api.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    assert_error(response, 429, "locked_out")


def test_the_address_is_locked_for_every_username(db, limit):
    """Trying many usernames from one address: the address's own limit."""
    victims = UserFactory.create_batch(limit)
    client = Client()
    for victim in victims:
        page_login(client, victim.username, "wrong")
    fresh = UserFactory()
    assert_locked_page(page_login(client, fresh.username, PASSWORD), minutes=15)
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert page_login(elsewhere, fresh.username, PASSWORD).status_code == 302


def test_the_username_is_locked_from_every_address(db, limit):
    """Trying one username from many addresses: the username's own limit."""
    user = UserFactory()
    for index in range(limit):
        page_login(Client(REMOTE_ADDR=f"198.51.100.{index + 1}"), user.username, "x")
    owner = Client(REMOTE_ADDR="203.0.113.9")
    assert_locked_page(page_login(owner, user.username, PASSWORD), minutes=15)
    other = UserFactory()
    assert page_login(owner, other.username, PASSWORD).status_code == 302


def test_a_username_that_reads_as_an_address_does_not_lock_that_address(db, limit):
    decoy = UserFactory(username="127.0.0.1")
    for index in range(limit):
        page_login(Client(REMOTE_ADDR=f"198.51.100.{index + 1}"), decoy.username, "x")
    user = UserFactory()
    assert page_login(Client(), user.username, PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(db, settings, limit):
    # Long enough that the one request between the last failure and the check
    # below cannot outlast it on a loaded machine.
    settings.VITRINE_LOGIN_COOLOFF_SECONDS = 5
    user = UserFactory()
    client = Client()
    for _ in range(limit):
        page_login(client, user.username, "wrong")
    response = page_login(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    time.sleep(5.2)
    assert page_login(client, user.username, PASSWORD).status_code == 302
    assert signed_in(client)


def test_persisting_during_the_lock_doubles_the_cool_off(db, limit):
    user = UserFactory()
    client = Client()
    for _ in range(2 * limit - 1):
        page_login(client, user.username, "wrong")
    assert_locked_page(page_login(client, user.username, "wrong"), minutes=30)
    for _ in range(limit):
        response = page_login(client, user.username, PASSWORD)
    assert_locked_page(response, minutes=60, wait="1 hour")


def test_a_success_before_the_limit_resets_the_count(db, limit):
    user = UserFactory()
    client = Client()
    for _ in range(limit - 1):
        page_login(client, user.username, "wrong")
    assert page_login(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(limit - 1):
        page_login(client, user.username, "wrong")
    assert page_login(client, user.username, PASSWORD).status_code == 302
    assert signed_in(client)


def test_a_get_of_the_login_page_is_never_locked(db, limit):
    user = UserFactory()
    client = Client()
    for _ in range(limit):
        page_login(client, user.username, "wrong")
    assert client.get(LOGIN_URL).status_code == 200


@pytest.mark.services
def test_counts_live_in_redis_where_every_web_process_reads_them(
    db, settings, limit, redis_broker_url
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_broker_url,
        }
    }
    user = UserFactory()
    for _ in range(limit):
        page_login(Client(), user.username, "wrong")
    import redis

    keys = redis.Redis.from_url(redis_broker_url).keys("*axes-*")
    assert len(keys) == 2  # one count for the username, one for the address
    # As another web process would: a connection of its own, the same counts.
    caches["default"].close()
    assert page_login(Client(), user.username, PASSWORD).status_code == 429


def test_an_operator_lifts_a_lock_by_username_or_address(db, limit):
    user = UserFactory()
    for index in range(limit):
        page_login(Client(REMOTE_ADDR=f"198.51.100.{index + 1}"), user.username, "x")
    assert page_login(Client(), user.username, PASSWORD).status_code == 429
    call_command("axes_reset_username", user.username)
    assert page_login(Client(), user.username, PASSWORD).status_code == 302

    for _ in range(limit):
        page_login(Client(), "someone-else", "x")
    assert page_login(Client(), user.username, PASSWORD).status_code == 429
    call_command("axes_reset_ip", "127.0.0.1")
    assert page_login(Client(), user.username, PASSWORD).status_code == 302


def test_the_deploy_check_asks_for_a_shared_cache(settings):
    from accounts.checks import sign_in_counts_are_shared

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    assert [m.id for m in sign_in_counts_are_shared(None)] == ["accounts.W001"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
    assert sign_in_counts_are_shared(None) == []
