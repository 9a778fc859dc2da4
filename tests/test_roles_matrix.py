"""Every route of the URL resolver against every role, as one table.

``MATRIX`` holds one row per route and method: what each role gets back. A
route of the resolver without a row fails ``test_every_route_has_a_row``, so a
new endpoint cannot ship without someone deciding who may call it. The roles
themselves are decided in accounts/roles.py; this table checks that the pages,
the API and the admin all follow it.

Objects belong to merchant A, whose owner and member are ``owner`` and
``member``; ``other`` owns merchant B, so A's objects are 404 to them. API
calls carry each role's token; pages and the admin use a signed-in session.
Everything is created once for the module and each request is rolled back.

Adding a row: ``R(method, route name (or pattern when unnamed), anonymous,
member, owner, other, reviewer, staff, admin, obj=..., body=...)``. ``LOGIN``
is a redirect to a sign-in page.
"""

from contextlib import ExitStack
from typing import NamedTuple

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import Membership
from accounts.services import api_token_create
from catalog.models import Category, ThresholdChange
from classification.models import Job, ModelVersion, Review
from classification.services.reviews import prediction_review
from imports.models import ImportJob
from tests.accounts.factories import PASSWORD, MembershipFactory, UserFactory
from tests.catalog.factories import ProductFactory, upload
from tests.classification import queue_data
from tests.images import noise_png
from webhooks.models import Delivery
from webhooks.services import webhook_create

ROLES = ("anonymous", "member", "owner", "other", "reviewer", "staff", "admin")
LOGIN = "login"  # a redirect to a sign-in page
HOOK = "http://127.0.0.1:9/hook"
NEW_PASSWORD = "a-long-new-password-9"
# Each test runs in a savepoint of the module's transaction, rolled back after.
pytestmark = pytest.mark.django_db


class R(NamedTuple):
    method: str
    route: str
    expected: tuple
    obj: str | None = None  # the world's object whose id fills the route
    body: dict | None = None  # "{name}" values become the world's ids
    kwargs: dict | None = None
    multipart: bool = False


def row(method, route, *expected, **options) -> R:
    assert len(expected) == len(ROLES), (route, expected)
    return R(method, route, tuple(expected), **options)


def admin_model(model: str, obj: str, *, add=True, delete=True) -> list[R]:
    """The admin's six routes of one model: platform admins only.

    Non-staff users are sent to the admin's login; staff without the right see
    403; ``add``/``delete`` False are models the admin never adds or deletes.
    """
    app, name = model.split(".")
    only = (LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 200)
    never = (LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403)
    prefix = f"admin:{app}_{name}"
    return [
        row("GET", f"{prefix}_changelist", *only),
        row("GET", f"{prefix}_add", *(only if add else never)),
        row("GET", f"{prefix}_change", *only, obj=obj),
        row("GET", f"{prefix}_history", *only, obj=obj),
        row("GET", f"{prefix}_delete", *(only if delete else never), obj=obj),
        # The bare object URL redirects to its change page, whoever asks.
        row("GET", f"admin/{app}/{name}/<path:object_id>/", *[302] * 7, obj=obj),
    ]


def photo():
    return upload(noise_png(7), "matrix.png", "image/png")


def catalog_file():
    return upload(b"sku,name\nM-1,Matrix\n", "matrix.csv", "text/csv")


# fmt: off
# Columns:        anonymous member owner other reviewer staff admin
MATRIX = [
    # --- health and the API's schema: anyone
    row("GET", "health", 200, 200, 200, 200, 200, 200, 200),
    row("GET", "health-ready", 200, 200, 200, 200, 200, 200, 200),
    row("GET", "api:schema", 200, 200, 200, 200, 200, 200, 200),
    row("GET", "api:index", 200, 200, 200, 200, 200, 200, 200),
    # Any path under /api/ that no endpoint answers: the API's JSON 404.
    row("GET", "api:not-found", 404, 404, 404, 404, 404, 404, 404,
        kwargs={"rest": "v1/nowhere/"}),
    row("GET", "api:docs", 200, 200, 200, 200, 200, 200, 200),
    # --- accounts and tokens: each user their own
    row("POST", "api:auth-token", 201, 201, 201, 201, 201, 201, 201,
        body={"username": "{member_username}", "password": PASSWORD}),
    row("GET", "api:auth-me", 401, 200, 200, 200, 200, 200, 200),
    row("GET", "api:api-token-list", 401, 200, 200, 200, 200, 200, 200),
    row("GET", "api:api-token-detail", 401, 200, 404, 404, 404, 404, 404,
        obj="member_token"),
    row("DELETE", "api:api-token-detail", 401, 204, 404, 404, 404, 404, 404,
        obj="member_token"),
    row("POST", "api:api-token-revoke-all", 401, 200, 200, 200, 200, 200, 200),
    row("GET", "api:merchant-list", 401, 403, 403, 403, 403, 403, 200),
    row("GET", "api:merchant-detail", 401, 403, 403, 403, 403, 403, 200,
        obj="merchant"),
    # --- members: owners of their merchant
    row("GET", "api:member-list", 401, 403, 200, 200, 403, 403, 200),
    row("POST", "api:member-list", 401, 403, 201, 400, 403, 403, 201,
        body={"username": "newbie", "password": NEW_PASSWORD,
              "merchant": "{merchant}"}),
    row("GET", "api:member-detail", 401, 403, 200, 404, 403, 403, 200,
        obj="membership"),
    row("PATCH", "api:member-detail", 401, 403, 200, 404, 403, 403, 200,
        obj="membership", body={"role": "owner"}),
    row("DELETE", "api:member-detail", 401, 403, 204, 404, 403, 403, 204,
        obj="membership"),
    # --- categories: anyone reads, platform admins write
    row("GET", "api:category-list", 200, 200, 200, 200, 200, 200, 200),
    row("POST", "api:category-list", 401, 403, 403, 403, 403, 403, 201,
        body={"name": "Gadgets"}),
    row("GET", "api:category-detail", 200, 200, 200, 200, 200, 200, 200,
        obj="category"),
    row("PUT", "api:category-detail", 401, 403, 403, 403, 403, 403, 200,
        obj="category", body={"name": "Gizmos", "slug": "gizmos"}),
    row("PATCH", "api:category-detail", 401, 403, 403, 403, 403, 403, 200,
        obj="category", body={"name": "Gizmos"}),
    row("DELETE", "api:category-detail", 401, 403, 403, 403, 403, 403, 204,
        obj="category"),
    # --- products and photos: the merchant's members; reviewers read
    row("GET", "api:product-list", 401, 200, 200, 200, 200, 403, 200),
    row("POST", "api:product-list", 401, 201, 201, 400, 403, 403, 201,
        body={"sku": "NEW-1", "name": "New", "merchant": "{merchant}"}),
    row("GET", "api:product-detail", 401, 200, 200, 404, 200, 403, 200,
        obj="product"),
    row("PUT", "api:product-detail", 401, 200, 200, 404, 403, 403, 200,
        obj="product", body={"sku": "A-1", "name": "Renamed"}),
    row("PATCH", "api:product-detail", 401, 200, 200, 404, 403, 403, 200,
        obj="product", body={"name": "Renamed"}),
    row("DELETE", "api:product-detail", 401, 204, 204, 404, 403, 403, 204,
        obj="product"),
    row("POST", "api:product-images", 401, 202, 202, 404, 403, 403, 202,
        obj="product", body={"file": photo}, multipart=True),
    row("GET", "api:image-list", 401, 200, 200, 200, 200, 403, 200),
    row("GET", "api:image-detail", 401, 200, 200, 404, 200, 403, 200, obj="image"),
    row("GET", "api:image-file", 401, 200, 200, 404, 200, 403, 200, obj="image"),
    row("POST", "api:image-reclassify", 401, 403, 403, 403, 403, 403, 200,
        obj="image"),
    row("DELETE", "api:image-detail", 401, 204, 204, 404, 403, 403, 204,
        obj="image"),
    row("POST", "api:image-cover", 401, 200, 200, 404, 403, 403, 200, obj="image"),
    # One photo id for a product of two: the order is refused past the check.
    row("POST", "api:product-images-order", 401, 400, 400, 404, 403, 403, 400,
        obj="product", body={"images": ["{image}"]}),
    row("POST", "api:product-bulk", 401, 200, 200, 400, 403, 403, 200,
        body={"action": "set_category", "products": ["{product}"],
              "category": "apparel"}),
    row("POST", "api:product-images-share", 401, 200, 200, 404, 403, 403, 200,
        obj="product", body={"image": "{image}"}),
    # An empty request: 400 says the role got past the permission check.
    row("POST", "api:classify", 401, 400, 400, 400, 403, 403, 400, body={},
        multipart=True),
    row("GET", "api:stats", 401, 200, 200, 200, 403, 403, 200),
    # --- predictions: read by the merchant; reviewed by reviewers
    row("GET", "api:prediction-list", 401, 200, 200, 200, 200, 403, 200),
    row("GET", "api:prediction-detail", 401, 200, 200, 404, 200, 403, 200,
        obj="prediction"),
    row("POST", "api:prediction-review", 401, 403, 403, 403, 200, 403, 200,
        obj="prediction", body={"decision": "accepted"}),
    row("POST", "api:prediction-review-bulk", 401, 403, 403, 403, 200, 403, 200,
        body={"prediction_ids": ["{prediction}"], "decision": "accepted"}),
    row("POST", "api:prediction-review-bulk-preview",
        401, 403, 403, 403, 200, 403, 200,
        body={"prediction_ids": ["{prediction}"], "decision": "accepted"}),
    # --- decisions: each reviewer their own; platform admins undo anyone's
    row("GET", "api:review-list", 401, 403, 403, 403, 200, 403, 200),
    row("GET", "api:review-detail", 401, 403, 403, 403, 200, 403, 404,
        obj="review"),
    row("POST", "api:review-undo", 401, 403, 403, 403, 200, 403, 200,
        obj="review"),
    # An unknown batch: 404 says the role got past the permission check.
    row("POST", "api:review-undo-batch", 401, 403, 403, 403, 404, 403, 404,
        body={"batch": "00000000-0000-4000-8000-000000000000"}),
    # --- models and jobs: platform admins
    row("GET", "api:model-version-list", 401, 403, 403, 403, 403, 403, 200),
    row("GET", "api:model-version-detail", 401, 403, 403, 403, 403, 403, 200,
        obj="version"),
    row("POST", "api:model-version-activate", 401, 403, 403, 403, 403, 403, 200,
        obj="version"),
    row("GET", "api:model-version-comparison", 401, 403, 403, 403, 403, 403, 200,
        obj="version"),
    row("POST", "api:model-version-shadow", 401, 403, 403, 403, 403, 403, 200,
        obj="version"),
    row("DELETE", "api:model-version-shadow", 401, 403, 403, 403, 403, 403, 200,
        obj="version"),
    row("POST", "api:model-version-rollback", 401, 403, 403, 403, 403, 403, 409),
    row("POST", "api:model-version-train", 401, 403, 403, 403, 403, 403, 202,
        body={"params": {}}),
    row("POST", "api:model-version-train-preview", 401, 403, 403, 403, 403, 403,
        200, body={"params": {}}),
    row("POST", "api:model-version-reclassify", 401, 403, 403, 403, 403, 403, 202,
        body={"only_unseen": True}),
    row("GET", "api:job-list", 401, 403, 403, 403, 403, 403, 200),
    row("GET", "api:job-detail", 401, 403, 403, 403, 403, 403, 200, obj="job"),
    row("GET", "api:threshold-list", 401, 403, 403, 403, 403, 403, 200),
    row("GET", "api:threshold-detail", 401, 403, 403, 403, 403, 403, 200,
        obj="threshold"),
    row("GET", "api:threshold-proposal", 401, 403, 403, 403, 403, 403, 200),
    row("POST", "api:threshold-apply", 401, 403, 403, 403, 403, 403, 200,
        body={"target_precision": 0.97}),
    # --- webhooks: owners of their merchant
    row("GET", "api:webhook-list", 401, 403, 200, 200, 403, 403, 200),
    row("POST", "api:webhook-list", 401, 403, 201, 400, 403, 403, 201,
        body={"url": HOOK, "events": ["image.classified"],
              "merchant": "{merchant}"}),
    row("GET", "api:webhook-detail", 401, 403, 200, 404, 403, 403, 200,
        obj="webhook"),
    row("PUT", "api:webhook-detail", 401, 403, 200, 404, 403, 403, 200,
        obj="webhook", body={"url": HOOK, "events": ["image.reviewed"]}),
    row("PATCH", "api:webhook-detail", 401, 403, 200, 404, 403, 403, 200,
        obj="webhook", body={"url": "http://127.0.0.1:8/elsewhere"}),
    row("DELETE", "api:webhook-detail", 401, 403, 204, 404, 403, 403, 204,
        obj="webhook"),
    row("GET", "api:webhook-deliveries", 401, 403, 200, 404, 403, 403, 200,
        obj="webhook"),
    row("POST", "api:webhook-rotate-secret", 401, 403, 200, 404, 403, 403, 200,
        obj="webhook"),
    # --- catalog imports: the merchant's own people
    row("GET", "api:import-list", 401, 200, 200, 200, 403, 403, 403),
    row("POST", "api:import-list", 401, 202, 202, 202, 403, 403, 403,
        body={"file": catalog_file}, multipart=True),
    row("GET", "api:import-detail", 401, 200, 200, 404, 403, 403, 403,
        obj="import_job"),
    row("GET", "api:import-report", 401, 200, 200, 404, 403, 403, 403,
        obj="import_job"),
    # --- sign-in pages
    row("GET", "login", 200, 200, 200, 200, 200, 200, 200),
    row("POST", "logout", 302, 302, 302, 302, 302, 302, 302),
    row("GET", "password_change", LOGIN, 200, 200, 200, 200, 200, 200),
    row("GET", "password_change_done", LOGIN, 200, 200, 200, 200, 200, 200),
    # --- merchant pages: members of their merchant; staff go to the admin
    row("GET", "catalog:product-list", LOGIN, 200, 200, 200, 302, 302, 302),
    row("GET", "catalog:product-create", LOGIN, 200, 200, 200, 403, 403, 403),
    # Another merchant's ids are refused as a form error (a redirect back).
    row("POST", "catalog:product-bulk", LOGIN, 200, 200, 302, 403, 403, 403,
        body={"action": "export", "products": ["{product}"]}),
    row("GET", "catalog:product-detail", LOGIN, 200, 200, 404, 403, 403, 403,
        obj="product"),
    row("GET", "catalog:product-edit", LOGIN, 200, 200, 404, 403, 403, 403,
        obj="product"),
    row("POST", "catalog:product-delete", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product"),
    row("POST", "catalog:image-upload", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", body={"file": photo}, multipart=True),
    row("GET", "catalog:product-status", LOGIN, 200, 200, 404, 403, 403, 403,
        obj="product"),
    # The product page's media manager.
    row("POST", "catalog:image-delete", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", kwargs={"image_pk": "{image}"}),
    row("POST", "catalog:image-cover", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", kwargs={"image_pk": "{image}"}),
    row("POST", "catalog:image-order", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", body={"order": "{image}"}),
    row("POST", "catalog:image-share", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", body={"image": "{image}"}),
    row("POST", "catalog:product-category", LOGIN, 302, 302, 404, 403, 403, 403,
        obj="product", body={"category": "matrix"}),
    # Photos are also what a review looks at.
    row("GET", "catalog:image-file", LOGIN, 200, 200, 404, 200, 403, 200,
        obj="image"),
    row("GET", "catalog:image-thumbnail", LOGIN, 200, 200, 404, 200, 403, 200,
        obj="image"),
    row("GET", "imports:import-list", LOGIN, 200, 200, 200, 403, 403, 403),
    row("POST", "imports:import-list", LOGIN, 302, 302, 302, 403, 403, 403,
        body={"file": catalog_file}, multipart=True),
    row("GET", "imports:import-detail", LOGIN, 200, 200, 404, 403, 403, 403,
        obj="import_job"),
    row("GET", "imports:import-report", LOGIN, 200, 200, 404, 403, 403, 403,
        obj="import_job"),
    # --- the dashboard: platform admins
    row("GET", "dashboard:index", LOGIN, 403, 403, 403, 403, 403, 200),
    row("GET", "dashboard:data", LOGIN, 403, 403, 403, 403, 403, 200),
    row("GET", "dashboard:export", LOGIN, 403, 403, 403, 403, 403, 200,
        kwargs={"chart": "activity"}),
    # --- the admin site: staff sign in; each sees what their roles give
    row("GET", "admin:index", LOGIN, LOGIN, LOGIN, LOGIN, 200, 200, 200),
    row("GET", "admin:login", 200, 200, 200, 200, 302, 302, 302),
    row("POST", "admin:logout", 302, 302, 302, 302, 302, 302, 302),
    row("GET", "admin:password_change", LOGIN, LOGIN, LOGIN, LOGIN, 200, 200, 200),
    row("GET", "admin:password_change_done",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 200, 200),
    row("GET", "admin:autocomplete", LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403),
    row("GET", "admin:jsi18n", LOGIN, LOGIN, LOGIN, LOGIN, 200, 200, 200),
    row("GET", "admin:view_on_site", LOGIN, LOGIN, LOGIN, LOGIN, 404, 404, 404,
        kwargs={"content_type_id": "{product_type}", "object_id": "{product}"}),
    row("GET", "admin:app_list", LOGIN, LOGIN, LOGIN, LOGIN, 404, 404, 200,
        kwargs={"app_label": "catalog"}),
    row("GET", "admin/(?P<url>.*)$", LOGIN, LOGIN, LOGIN, LOGIN, 404, 404, 404,
        kwargs={"url": "nowhere/"}),
    # The review queue: reviewers and platform admins.
    row("GET", "admin:classification_reviewitem_changelist",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 403, 200),
    row("GET", "admin:classification_reviewitem_work",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 403, 200),
    row("GET", "admin:classification_reviewitem_change",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 403, 200, obj="prediction"),
    row("POST", "admin:classification_reviewitem_review",
        LOGIN, LOGIN, LOGIN, LOGIN, 302, 403, 302, obj="prediction",
        body={"decision": "accepted"}),
    row("GET", "admin:classification_reviewitem_history",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 403, 200, obj="prediction"),
    row("GET", "admin:classification_reviewitem_decisions",
        LOGIN, LOGIN, LOGIN, LOGIN, 200, 403, 200),
    # Undo answers with a redirect to the history, with a message: undone, or
    # (a platform admin undoing a reviewer's decision) undone too.
    row("POST", "admin:classification_reviewitem_undo",
        LOGIN, LOGIN, LOGIN, LOGIN, 302, 403, 302,
        kwargs={"review_id": "{review}"}),
    row("POST", "admin:classification_reviewitem_undo_batch",
        LOGIN, LOGIN, LOGIN, LOGIN, 302, 403, 302,
        kwargs={"batch": "00000000-0000-4000-8000-000000000000"}),
    row("GET", "admin:classification_reviewitem_add",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403),
    row("GET", "admin:classification_reviewitem_delete",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 403, obj="prediction"),
    row("GET", "admin/classification/reviewitem/<path:object_id>/",
        *[302] * 7, obj="prediction"),
    # Everything else of the admin: platform admins.
    row("GET", "admin:auth_user_password_change",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 200, kwargs={"id": "{member_id}"}),
    row("GET", "admin:classification_modelversion_train",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 200),
    row("GET", "admin:classification_modelversion_thresholds",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 200),
    *admin_model("auth.group", "group"),
    *admin_model("accounts.user", "member_id"),
    *admin_model("accounts.merchant", "merchant"),
    *admin_model("accounts.membership", "membership"),
    *admin_model("accounts.apitoken", "member_token", add=False),
    *admin_model("catalog.category", "category"),
    *admin_model("catalog.product", "product"),
    *admin_model("catalog.productimage", "image", add=False),
    *admin_model("catalog.thresholdchange", "threshold", add=False, delete=False),
    *admin_model("classification.modelversion", "version", add=False, delete=False),
    row("GET", "admin:classification_modelversion_activate",
        LOGIN, LOGIN, LOGIN, LOGIN, 403, 403, 200, obj="version"),
    *admin_model("classification.job", "job", add=False),
    *admin_model("classification.prediction", "prediction", add=False),
    *admin_model("classification.review", "review", add=False),
    *admin_model("webhooks.webhook", "webhook"),
    *admin_model("webhooks.delivery", "delivery"),
]
# fmt: on


# --- The routes of the resolver -------------------------------------------------


class Route(NamedTuple):
    key: str  # its name with namespaces, or its pattern when it has none
    pattern: str
    methods: frozenset[str] | None  # for API views; None where not knowable


def _methods(pattern: URLPattern) -> frozenset[str] | None:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: the methods the router bound
        return frozenset(m.upper() for m in actions if m not in ("head", "options"))
    cls = getattr(callback, "cls", None)
    if (
        cls is not None
        and issubclass(cls, APIView)
        and cls.__module__.startswith(
            ("accounts", "catalog", "classification", "imports", "webhooks", "config")
        )
    ):
        return frozenset(
            m.upper()
            for m in ("get", "post", "put", "patch", "delete")
            if hasattr(cls, m)
        )
    return None


def resolver_routes(resolver=None, prefix="", namespace=None) -> list[Route]:
    resolver = resolver or get_resolver()
    routes = []
    for pattern in resolver.url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace
                    else (pattern.namespace)
                )
            routes += resolver_routes(pattern, text, inner)
        elif pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            routes.append(Route(name, text, _methods(pattern)))
        else:
            routes.append(Route(text, text, _methods(pattern)))
    return routes


def test_every_route_has_a_row():
    routes = resolver_routes()
    keys = [route.key for route in routes]
    assert len(keys) == len(set(keys)), "two routes share a name"
    rows = {(r.method, r.route) for r in MATRIX}
    assert len(rows) == len(MATRIX), "a route and method has two rows"
    missing = []
    for route in routes:
        if route.methods is None:
            if not any(r.route == route.key for r in MATRIX):
                missing.append(f"{route.key} (any method)")
        else:
            missing += [
                f"{method} {route.key}"
                for method in sorted(route.methods)
                if (method, route.key) not in rows
            ]
    assert not missing, "routes without a row in MATRIX: " + ", ".join(missing)
    stale = {r.route for r in MATRIX} - set(keys)
    assert not stale, f"rows for routes that do not exist: {sorted(stale)}"


# --- The world every request runs in -------------------------------------------


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def media_storage(media_root):
    """The module's files live in one folder for all its tests (this replaces
    the suite's per-test folder, which would lose the world's photos)."""
    return media_root


def _build_world() -> dict:
    merchant = MembershipFactory().merchant
    owner = merchant.memberships.get().user
    member = MembershipFactory(merchant=merchant, role=Membership.Role.MEMBER).user
    other = MembershipFactory().user
    reviewer = UserFactory(is_staff=True)
    reviewer.groups.add(Group.objects.get(name="Reviewers"))
    staff = UserFactory(is_staff=True)
    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="Platform admins"))
    users = dict(
        member=member,
        owner=owner,
        other=other,
        reviewer=reviewer,
        staff=staff,
        admin=admin,
    )

    product = ProductFactory(merchant=merchant, sku="A-1")
    image = queue_data.image(product=product, with_file=True)
    version = queue_data.model_version()
    ModelVersion.objects.filter(pk=version.pk).update(
        status=ModelVersion.Status.ACTIVE, activated_at=timezone.now()
    )
    candidate = queue_data.model_version()
    prediction = queue_data.prediction(image_row=image, version=version)
    reviewed = queue_data.prediction(product=product, version=version)
    prediction_review(prediction_id=reviewed.pk, reviewer=reviewer, decision="accepted")
    webhook = webhook_create(merchant=merchant, url=HOOK, events=["image.classified"])
    delivery = Delivery.objects.create(
        webhook=webhook, event="image.classified", payload={"test": True}
    )
    category = Category.objects.create(name="Matrix", slug="matrix")
    job = Job.objects.create(kind=Job.Kind.RECLASSIFY, created_by=admin)
    import_job = ImportJob.objects.create(
        merchant=merchant,
        created_by=owner,
        source=ImportJob.Source.CSV,
        file="imports/matrix.csv",
        rows_total=1,
        report=[{"row": 1, "sku": "X", "image": "", "code": "c", "message": "m"}],
    )
    threshold = ThresholdChange.objects.create(
        category=category, old_threshold=0.6, new_threshold=0.7, reason="matrix"
    )

    # Each role's session cookie and token key; every test makes fresh clients
    # from them, so one signing out does not sign out the next test.
    credentials = {"anonymous": (None, None)}
    member_token = None
    for role, user in users.items():
        page = Client()
        page.force_login(user)
        token, key = api_token_create(user=user, name="matrix")
        if role == "member":
            member_token = token
        credentials[role] = (page.cookies[settings.SESSION_COOKIE_NAME].value, key)
    # The active version's artifact exists, so /health/ finds the model.
    default_storage.save(version.artifact.name, ContentFile(b"weights"))

    from django.contrib.contenttypes.models import ContentType

    ids = {
        "merchant": merchant.pk,
        "membership": member.membership.pk,
        "member_id": member.pk,
        "member_username": member.username,
        "member_token": member_token.pk,
        "group": Group.objects.get(name="Reviewers").pk,
        "category": category.pk,
        "product": product.pk,
        "product_type": ContentType.objects.get_for_model(product).pk,
        "image": image.pk,
        "prediction": prediction.pk,
        "review": Review.objects.get(prediction=reviewed).pk,
        "version": candidate.pk,
        "job": job.pk,
        "import_job": import_job.pk,
        "threshold": threshold.pk,
        "webhook": webhook.pk,
        "delivery": delivery.pk,
    }
    return {"credentials": credentials, "ids": ids}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    """Create the objects once; every test's changes are rolled back."""
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": media_root, "base_url": "/media/"},
        },
    }
    with ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(
            override_settings(
                MEDIA_ROOT=media_root,
                STORAGES=storages,
                VITRINE_WEBHOOK_ALLOW_PRIVATE=True,
            )
        )
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _fill(value, ids: dict):
    if callable(value):
        return value()
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def _url(entry: R, ids: dict) -> str:
    kwargs = _fill(entry.kwargs or {}, ids)
    route = next(r for r in resolver_routes() if r.key == entry.route)
    if entry.obj is not None:
        for name in ("pk", "object_id", "id"):
            if (
                f"<{name}>" in route.pattern
                or f"P<{name}>" in route.pattern
                or (f":{name}>" in route.pattern)
            ):
                kwargs[name] = ids[entry.obj]
    if route.key != route.pattern:
        return reverse(route.key, kwargs=kwargs)
    # An unnamed route: fill its one parameter by hand.
    path = "/" + route.pattern
    if "<path:object_id>" in path:
        return path.replace("<path:object_id>", str(kwargs["object_id"]))
    return "/admin/" + kwargs["url"]


@pytest.mark.parametrize(
    ("entry", "role"),
    [(entry, role) for entry in MATRIX for role in ROLES],
    ids=[f"{e.method} {e.route} as {role}" for e in MATRIX for role in ROLES],
)
def test_each_role_gets_what_the_table_says(world, entry, role):
    cache.clear()  # rate limits count per test
    ids = world["ids"]
    session, key = world["credentials"][role]
    page, api = Client(), APIClient()
    if session is not None:
        page.cookies[settings.SESSION_COOKIE_NAME] = session
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    url = _url(entry, ids)
    client = api if url.startswith("/api/v1/") else page
    body = _fill(entry.body, ids) if entry.body is not None else None
    send = getattr(client, entry.method.lower())
    if body is None:
        response = send(url)
    elif client is api and not entry.multipart:
        response = send(url, body, format="json")
    elif client is api:
        response = send(url, body, format="multipart")
    else:
        response = send(url, body)
    expected = entry.expected[ROLES.index(role)]
    got = response.status_code
    if expected == LOGIN:
        location = response.get("Location", "")
        assert got == 302 and "/login/" in location, (got, location)
    else:
        assert got == expected, (got, getattr(response, "content", b"")[:300])
