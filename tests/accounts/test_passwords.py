"""A password change, by any path, revokes every API token of the user."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken
from tests.accounts.factories import PASSWORD, UserFactory
from tests.api.conftest import assert_error, token_client

NEW_PASSWORD = "a-different-long-password"


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def tokens(user):
    return [token_client(user), token_client(user)]


def assert_all_revoked(user, tokens):
    rows = ApiToken.objects.filter(user=user)
    assert rows.count() == len(tokens)  # still listed, with the time they ended
    assert all(row.revoked_at is not None for row in rows)
    for api in tokens:
        assert_error(api.get("/api/v1/auth/me/"), 401, "authentication_failed")


def test_changing_the_password_on_the_page_revokes_the_users_tokens(user, tokens):
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert_all_revoked(user, tokens)


def test_the_password_page_says_that_tokens_will_be_revoked(user):
    client = Client()
    client.force_login(user)
    html = client.get(reverse("password_change")).content.decode()
    assert "revokes every API token" in html


def test_an_admin_setting_the_password_revokes_the_users_tokens(
    user, tokens, staff_user
):
    client = Client()
    client.force_login(staff_user)
    response = client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_all_revoked(user, tokens)


def test_the_changepassword_command_revokes_the_users_tokens(user, tokens, monkeypatch):
    # The command reads the new password twice from the terminal.
    monkeypatch.setattr(
        "django.contrib.auth.management.commands.changepassword.getpass.getpass",
        lambda prompt="": NEW_PASSWORD,
    )
    call_command("changepassword", user.username)
    assert_all_revoked(user, tokens)


def test_set_password_and_save_anywhere_revokes_the_users_tokens(user, tokens):
    user.set_password(NEW_PASSWORD)
    user.save()
    assert_all_revoked(user, tokens)


def test_other_saves_and_other_users_changes_leave_the_tokens_alone(user, tokens):
    user.email = "new@example.com"
    user.save()
    other = UserFactory()
    other.set_password(NEW_PASSWORD)
    other.save()
    for api in tokens:
        assert api.get("/api/v1/auth/me/").status_code == 200


def test_a_hash_upgrade_at_sign_in_is_not_a_change(user, tokens, settings):
    # The stored hash is MD5 (the test hasher); with PBKDF2 preferred, signing in
    # re-hashes the same password.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    for api in tokens:
        assert api.get("/api/v1/auth/me/").status_code == 200


def test_a_token_made_after_the_change_works(user, tokens):
    user.set_password(NEW_PASSWORD)
    user.save()
    assert token_client(user).get("/api/v1/auth/me/").status_code == 200
