"""Owners manage their merchant's members: list, add, change role, remove."""

from django.urls import reverse

from accounts.models import ApiToken, Membership
from accounts.services import api_token_create
from tests.accounts.factories import MembershipFactory
from tests.api.conftest import assert_error, token_client

URL = "/api/v1/members/"
PASSWORD = "a-long-new-password-9"


def test_an_owner_adds_a_member_who_can_then_sign_in(merchant_api, merchant, client):
    response = merchant_api.post(
        URL, {"username": "clerk", "email": "c@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["username"], body["role"], body["merchant"]) == (
        "clerk",
        "member",
        merchant.pk,
    )
    membership = Membership.objects.get(pk=body["id"])
    assert (membership.merchant, membership.role) == (merchant, "member")
    # Signs in through the login page (the lockout backend needs a request).
    signed_in = client.post(
        reverse("login"), {"username": "clerk", "password": PASSWORD}
    )
    assert signed_in.status_code == 302, signed_in.content
    assert signed_in.url == reverse("catalog:product-list")
    listed = merchant_api.get(URL).json()["results"]
    assert [m["username"] for m in listed] == [merchant_api.user.username, "clerk"]


def test_adding_checks_the_username_and_password(merchant_api, other_membership):
    taken = other_membership.user.username
    assert_error(
        merchant_api.post(URL, {"username": taken, "password": PASSWORD}),
        409,
        "username_taken",
    )
    error = assert_error(
        merchant_api.post(URL, {"username": "x", "password": "123"}), 400, "invalid"
    )
    assert set(error["details"]) == {"password"}
    error = assert_error(
        merchant_api.post(URL, {"username": "a b=", "password": PASSWORD}), 400
    )
    assert set(error["details"]) == {"username"}
    assert_error(
        merchant_api.post(
            URL,
            {
                "username": "y",
                "password": PASSWORD,
                "merchant": other_membership.merchant_id,
            },
        ),
        400,
    )
    assert Membership.objects.count() == 2


def test_an_owner_changes_roles_but_never_demotes_the_last_owner(
    merchant_api, merchant
):
    me = merchant_api.user.membership
    error = assert_error(
        merchant_api.patch(f"{URL}{me.pk}/", {"role": "member"}), 409, "last_owner"
    )
    assert "last owner" in error["message"]
    clerk = MembershipFactory(merchant=merchant, role="member")
    response = merchant_api.patch(f"{URL}{clerk.pk}/", {"role": "owner"})
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "owner"
    # Two owners now: the first may step down.
    response = merchant_api.patch(f"{URL}{me.pk}/", {"role": "member"})
    assert response.status_code == 200
    me.refresh_from_db()
    assert me.role == "member"
    assert_error(merchant_api.get(URL), 403)  # no longer an owner


def test_removing_a_member_revokes_their_tokens(merchant_api, merchant):
    clerk = MembershipFactory(merchant=merchant, role="member")
    clerk_api = token_client(clerk.user)
    assert clerk_api.get("/api/v1/products/").status_code == 200
    assert merchant_api.delete(f"{URL}{clerk.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=clerk.pk).exists()
    assert not ApiToken.objects.filter(user=clerk.user, revoked_at=None).exists()
    assert_error(clerk_api.get("/api/v1/products/"), 401)


def test_the_last_owner_cannot_be_removed(merchant_api, merchant):
    me = merchant_api.user.membership
    assert_error(merchant_api.delete(f"{URL}{me.pk}/"), 409, "last_owner")
    assert Membership.objects.filter(pk=me.pk, role="owner").exists()


def test_members_are_the_owners_business(merchant, other_membership, merchant_api):
    clerk = MembershipFactory(merchant=merchant, role="member")
    clerk_api = token_client(clerk.user)
    assert_error(clerk_api.get(URL), 403)
    assert_error(clerk_api.patch(f"{URL}{clerk.pk}/", {"role": "owner"}), 403)
    assert_error(clerk_api.post(URL, {"username": "z", "password": PASSWORD}), 403)
    theirs = other_membership
    for method in ("get", "patch", "delete"):
        assert_error(
            getattr(merchant_api, method)(f"{URL}{theirs.pk}/", {"role": "member"}),
            404,
        )
    clerk.refresh_from_db()
    assert clerk.role == "member"
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_platform_admins_manage_any_merchants_members(staff_api, merchant):
    assert_error(staff_api.post(URL, {"username": "p", "password": PASSWORD}), 400)
    response = staff_api.post(
        URL, {"username": "p", "password": PASSWORD, "merchant": merchant.pk}
    )
    assert response.status_code == 201, response.content
    assert staff_api.get(URL, {"page_size": 100}).json()["count"] == 2


def test_removing_a_member_keeps_other_peoples_tokens(merchant_api, merchant):
    clerk = MembershipFactory(merchant=merchant, role="member")
    api_token_create(user=clerk.user)
    merchant_api.delete(f"{URL}{clerk.pk}/")
    assert merchant_api.get("/api/v1/auth/me/").status_code == 200
