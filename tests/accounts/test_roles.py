"""Roles: what a reviewer, plain staff, a member and an owner may reach.

The route-by-role matrix (tests/test_roles_matrix.py) holds every route; these
tests follow the stories behind it through to what is stored.
"""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.models import Membership
from accounts.roles import Capability, Role, user_can, user_roles
from catalog.models import Category, Product
from classification.models import ModelVersion
from classification.services.reviews import prediction_review
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.api.conftest import assert_error, token_client
from tests.catalog.factories import ProductFactory
from tests.classification import queue_data
from webhooks.models import Webhook
from webhooks.services import webhook_create

HOOK = "http://127.0.0.1:9/hook"
pytestmark = pytest.mark.django_db


def group_user(name: str, **fields):
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def allow_loopback(settings):
    settings.VITRINE_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def reviewer(db):
    return group_user("Reviewers")


@pytest.fixture
def reviewer_api(reviewer):
    return token_client(reviewer)


@pytest.fixture
def member(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.MEMBER).user


@pytest.fixture
def member_api(member):
    return token_client(member)


def test_the_roles_of_each_kind_of_user(db, merchant_user, member, reviewer):
    assert user_roles(merchant_user) == {Role.SIGNED_IN, Role.OWNER}
    assert user_roles(member) == {Role.SIGNED_IN, Role.MEMBER}
    assert user_roles(reviewer) == {Role.SIGNED_IN, Role.REVIEWER}
    assert user_roles(group_user("Platform admins")) == {
        Role.SIGNED_IN,
        Role.PLATFORM_ADMIN,
    }
    assert user_roles(UserFactory(is_superuser=True)) >= {Role.PLATFORM_ADMIN}
    assert user_roles(UserFactory(is_staff=True)) == {Role.SIGNED_IN}
    # The groups count for staff only: a non-staff account in them is nobody.
    assert user_roles(UserFactory(is_staff=False)) == {Role.SIGNED_IN}
    not_staff = UserFactory()
    not_staff.groups.add(Group.objects.get(name="Platform admins"))
    assert user_roles(not_staff) == {Role.SIGNED_IN}


def test_merchant_roles_reach_their_own_merchant_only(merchant_user, other_membership):
    merchant = merchant_user.membership.merchant
    assert user_can(merchant_user, Capability.WEBHOOK_MANAGE, merchant)
    assert not user_can(
        merchant_user, Capability.WEBHOOK_MANAGE, other_membership.merchant
    )


def test_a_reviewers_token_cannot_change_any_merchants_catalog(
    reviewer_api, other_membership
):
    product = ProductFactory(merchant=other_membership.merchant, name="Kept")
    url = f"/api/v1/products/{product.pk}/"
    assert reviewer_api.get(url).status_code == 200  # a review reads products
    assert_error(reviewer_api.patch(url, {"name": "Renamed"}), 403)
    assert_error(reviewer_api.delete(url), 403)
    assert_error(
        reviewer_api.post(
            "/api/v1/products/",
            {"sku": "X-1", "name": "Theirs", "merchant": product.merchant_id},
        ),
        403,
    )
    assert_error(
        reviewer_api.post("/api/v1/categories/", {"name": "Gadgets"}),
        403,
    )
    product.refresh_from_db()
    assert product.name == "Kept"
    assert Product.objects.count() == 1
    assert not Category.objects.filter(name="Gadgets").exists()


@pytest.mark.usefixtures("allow_loopback")
def test_a_reviewer_cannot_repoint_or_read_a_merchants_webhook(
    reviewer_api, other_membership
):
    webhook = webhook_create(
        merchant=other_membership.merchant, url=HOOK, events=["image.classified"]
    )
    url = f"/api/v1/webhooks/{webhook.pk}/"
    assert_error(reviewer_api.patch(url, {"url": "http://127.0.0.1:8/mine"}), 403)
    assert_error(reviewer_api.get(f"{url}deliveries/"), 403)
    assert_error(reviewer_api.get("/api/v1/webhooks/"), 403)
    assert Webhook.objects.get(pk=webhook.pk).url == HOOK


def test_a_reviewer_cannot_run_the_models(reviewer_api):
    version = queue_data.model_version()
    assert_error(reviewer_api.post(f"/api/v1/models/{version.pk}/activate/"), 403)
    assert_error(reviewer_api.post("/api/v1/models/train/", {"params": {}}), 403)
    assert_error(reviewer_api.post("/api/v1/models/reclassify/", {}), 403)
    assert not ModelVersion.objects.filter(status="active").exists()


@pytest.mark.usefixtures("allow_loopback")
def test_webhooks_are_the_owners_not_the_members(member_api, merchant_api, merchant):
    error = assert_error(member_api.get("/api/v1/webhooks/"), 403)
    assert "owners" in error["message"]
    assert_error(
        member_api.post(
            "/api/v1/webhooks/", {"url": HOOK, "events": ["image.classified"]}
        ),
        403,
    )
    assert not Webhook.objects.exists()
    response = merchant_api.post(
        "/api/v1/webhooks/", {"url": HOOK, "events": ["image.classified"]}
    )
    assert response.status_code == 201, response.content


def test_a_member_manages_products_and_photos(member_api, merchant):
    response = member_api.post("/api/v1/products/", {"sku": "M-1", "name": "Mug"})
    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="M-1").merchant == merchant


def _reviewed(merchant, reviewer):
    prediction = queue_data.prediction(merchant=merchant)
    prediction_review(
        prediction_id=prediction.pk,
        reviewer=reviewer,
        decision="accepted",
        note="internal: blurry, asked QA",
    )
    return prediction


def test_merchants_see_no_reviewer_names_or_notes(
    merchant_api, member_api, reviewer_api, merchant, reviewer
):
    prediction = _reviewed(merchant, reviewer)
    urls = [
        f"/api/v1/predictions/{prediction.pk}/",
        f"/api/v1/images/{prediction.image_id}/",
    ]
    for client in (merchant_api, member_api):
        for url in urls:
            review = client.get(url).json()["review"]
            assert review["decision"] == "accepted"
            assert (review["reviewer"], review["note"]) == (None, None)
            assert reviewer.username not in client.get(url).content.decode()
        listed = client.get("/api/v1/predictions/").content.decode()
        assert reviewer.username not in listed
        assert "blurry" not in listed
        assert "blurry" not in client.get("/api/v1/images/").content.decode()
    for url in urls:
        review = reviewer_api.get(url).json()["review"]
        assert review["reviewer"] == reviewer.username
        assert review["note"] == "internal: blurry, asked QA"


def test_plain_staff_reach_nothing(client, merchant):
    image = queue_data.image(merchant=merchant, with_file=True)
    client.force_login(UserFactory(is_staff=True))
    assert client.get(f"/images/{image.pk}/file/").status_code == 403
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/admin/catalog/product/").status_code == 403
    assert client.get("/api/v1/products/").status_code == 403
    page = client.get("/admin/")
    assert page.status_code == 200
    assert b"permission to view or edit anything" in page.content


def test_reviewers_see_photos_but_not_the_dashboard(client, reviewer, merchant):
    image = queue_data.image(merchant=merchant, with_file=True)
    client.force_login(reviewer)
    assert client.get(f"/images/{image.pk}/thumbnail/").status_code == 200
    assert client.get("/dashboard/").status_code == 403


def test_platform_admins_group_opens_the_admin_and_the_dashboard(client, merchant):
    client.force_login(group_user("Platform admins"))
    product = ProductFactory(merchant=merchant)
    assert client.get("/dashboard/").status_code == 200
    assert client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert client.get("/admin/webhooks/webhook/").status_code == 200
    assert client.get("/admin/classification/reviewitem/work/").status_code == 200


def test_group_permissions_stored_in_the_database_are_not_read(client):
    # Ticking permissions on the Reviewers group in the admin does not widen
    # what reviewers may do: the roles table decides.
    group = Group.objects.get(name="Reviewers")
    group.permissions.add(Permission.objects.get(codename="change_product"))
    client.force_login(group_user("Reviewers"))
    assert client.get("/admin/catalog/product/").status_code == 403
    assert client.get("/admin/classification/reviewitem/").status_code == 200
