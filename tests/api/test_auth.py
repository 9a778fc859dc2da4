"""Tokens: made with a password, listed and revoked by their owner only."""

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.accounts.factories import PASSWORD, UserFactory
from tests.api.conftest import assert_error, token_client

TOKEN_URL = "/api/v1/auth/token/"


def test_a_username_and_password_give_a_token_that_authenticates(anon, merchant_user):
    response = anon.post(
        TOKEN_URL,
        {"username": merchant_user.username, "password": PASSWORD, "name": "shop"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["key"].startswith(body["prefix"])
    assert body["name"] == "shop"
    token = ApiToken.objects.get(pk=body["id"])
    assert body["key"] not in token.key_hash  # only the hash is stored
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['key']}")
    me = client.get("/api/v1/auth/me/")
    assert me.status_code == 200
    assert me.json()["username"] == merchant_user.username
    assert me.json()["merchant"]["id"] == merchant_user.membership.merchant_id
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_bearer_is_accepted_as_well_as_token(merchant_user):
    from accounts.services import api_token_create

    _, key = api_token_create(user=merchant_user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/auth/me/").status_code == 200


def test_a_wrong_password_answers_401_and_makes_no_token(anon, merchant_user):
    response = anon.post(
        TOKEN_URL, {"username": merchant_user.username, "password": "wrong"}
    )
    assert_error(response, 401, "authentication_failed")
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(anon, db):
    user = UserFactory(is_active=False)
    response = anon.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    assert_error(response, 401)


def test_missing_fields_answer_400_naming_them(anon, db):
    error = assert_error(anon.post(TOKEN_URL, {}), 400, "invalid")
    assert set(error["details"]) == {"username", "password"}


def test_an_unknown_or_malformed_token_answers_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert_error(client.get("/api/v1/products/"), 401, "authentication_failed")
    client.credentials(HTTP_AUTHORIZATION="Token two words")
    assert_error(client.get("/api/v1/products/"), 401, "authentication_failed")


def test_owners_list_only_their_own_tokens(merchant_api, other_api):
    response = merchant_api.get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    tokens = response.json()["results"]
    assert len(tokens) == 1
    assert "key" not in tokens[0]
    assert ApiToken.objects.get(pk=tokens[0]["id"]).user == merchant_api.user


def test_revoking_a_token_stops_it_and_keeps_it_listed(merchant_user):
    client = token_client(merchant_user)
    second = token_client(merchant_user)
    token = ApiToken.objects.filter(user=merchant_user).order_by("pk").first()
    response = second.delete(f"/api/v1/auth/tokens/{token.pk}/")
    assert response.status_code == 204
    assert_error(client.get("/api/v1/auth/me/"), 401, "authentication_failed")
    listed = second.get("/api/v1/auth/tokens/").json()["results"]
    assert {t["id"]: t["revoked_at"] is not None for t in listed}[token.pk] is True


def test_nobody_reads_or_revokes_another_users_token(merchant_api, other_api):
    theirs = ApiToken.objects.get(user=other_api.user)
    assert_error(merchant_api.get(f"/api/v1/auth/tokens/{theirs.pk}/"), 404)
    assert_error(merchant_api.delete(f"/api/v1/auth/tokens/{theirs.pk}/"), 404)
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_token_of_a_deactivated_user_stops_working(merchant_api):
    merchant_api.user.is_active = False
    merchant_api.user.save()
    assert_error(merchant_api.get("/api/v1/auth/me/"), 401)


def test_last_use_is_written_at_most_once_a_minute(
    merchant_api, django_assert_num_queries
):
    merchant_api.get("/api/v1/auth/me/")
    token = ApiToken.objects.get(user=merchant_api.user)
    first = token.last_used_at
    merchant_api.get("/api/v1/auth/me/")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timezone.timedelta(minutes=2)
    )
    merchant_api.get("/api/v1/auth/me/")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_the_browser_session_authenticates_and_writes_need_csrf(merchant_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(merchant_user)
    assert client.get("/api/v1/products/").status_code == 200
    response = client.post("/api/v1/products/", {"sku": "S", "name": "N"})
    assert_error(response, 403, "permission_denied")


def test_me_tells_staff_and_reviewers_apart(
    plain_staff_api, reviewer_api, superuser_api
):
    assert plain_staff_api.get("/api/v1/auth/me/").json()["is_reviewer"] is False
    assert reviewer_api.get("/api/v1/auth/me/").json()["is_reviewer"] is True
    body = superuser_api.get("/api/v1/auth/me/").json()
    assert (body["is_staff"], body["is_reviewer"], body["merchant"]) == (
        True,
        True,
        None,
    )


def test_the_token_endpoint_is_named_in_the_url_conf():
    assert reverse("api:auth-token") == TOKEN_URL


def test_staff_revoke_a_token_in_the_admin(client, staff_user, merchant_api):
    token = ApiToken.objects.get(user=merchant_api.user)
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    assert_error(merchant_api.get("/api/v1/auth/me/"), 401)
    listing = client.get(reverse("admin:accounts_apitoken_changelist"))
    assert token.prefix in listing.content.decode()
    assert token.key_hash not in listing.content.decode()


REVOKE_ALL_URL = "/api/v1/auth/tokens/revoke-all/"


def test_revoke_all_ends_every_token_of_the_caller_including_its_own(merchant_user):
    calling = token_client(merchant_user)
    second = token_client(merchant_user)
    ApiToken.objects.filter(user=merchant_user).update(revoked_at=None)
    already = token_client(merchant_user)
    already_token = ApiToken.objects.filter(user=merchant_user).latest("pk")
    already.delete(f"/api/v1/auth/tokens/{already_token.pk}/")
    others = token_client(UserFactory())
    response = calling.post(REVOKE_ALL_URL)
    assert response.status_code == 200
    assert response.json() == {"revoked": 2}  # the third was revoked already
    assert_error(calling.get("/api/v1/auth/me/"), 401, "authentication_failed")
    assert_error(second.get("/api/v1/auth/me/"), 401, "authentication_failed")
    assert others.get("/api/v1/auth/me/").status_code == 200
    assert ApiToken.objects.filter(user=merchant_user).count() == 3  # still listed


def test_revoke_all_from_the_browser_session_keeps_the_session(merchant_user):
    api = token_client(merchant_user)
    browser = APIClient()
    browser.force_login(merchant_user)
    response = browser.post(REVOKE_ALL_URL)
    assert response.json() == {"revoked": 1}
    assert_error(api.get("/api/v1/auth/me/"), 401)
    assert browser.get("/api/v1/auth/tokens/").status_code == 200


def test_revoke_all_needs_credentials(anon, db):
    assert_error(anon.post(REVOKE_ALL_URL), 401)


def test_tokens_never_expire_by_default(anon, merchant_user):
    response = anon.post(
        TOKEN_URL, {"username": merchant_user.username, "password": PASSWORD}
    )
    assert response.json()["expires_at"] is None


def test_with_a_lifetime_a_token_expires_and_then_answers_401(
    anon, merchant_user, settings
):
    settings.VITRINE_API_TOKEN_LIFETIME_DAYS = 30
    before = timezone.now()
    body = anon.post(
        TOKEN_URL, {"username": merchant_user.username, "password": PASSWORD}
    ).json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at - before >= timezone.timedelta(days=30)
    assert token.expires_at - before < timezone.timedelta(days=30, minutes=1)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['key']}")
    listed = client.get("/api/v1/auth/tokens/").json()["results"]
    assert listed[0]["expires_at"] == body["expires_at"]
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    error = assert_error(client.get("/api/v1/auth/me/"), 401, "token_expired")
    assert "expired" in error["message"]
    assert "/api/v1/auth/token/" in error["message"]
