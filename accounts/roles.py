"""Who may do what: the one table every page, API view and the admin ask.

A user holds roles:

- **platform admin**: a superuser, or staff in the "Platform admins" group;
  everything, on every merchant.
- **reviewer**: staff in the "Reviewers" group; the review queue and what a
  review needs to read (products, photos, predictions), on every merchant.
- **owner** of a merchant: the merchant's webhooks and members, and all a member
  does, on their own merchant.
- **member** of a merchant: products and photos, and catalog imports, on their
  own merchant.

and, whoever they are, ``signed_in`` (their own tokens) or ``anonymous``.

Staff in neither group hold no role of the platform: they can sign in to the
admin and see an empty index, nothing else.

Each capability names the roles that hold it (``CAPABILITIES``). Platform roles
act on every merchant; merchant roles on their own merchant only, and another
merchant's objects are not found (404), not forbidden. Group permissions stored
in the database are not read: the admin's model permissions come from
``ADMIN_PERMISSIONS`` here too, through :class:`RoleBackend`.
"""

from enum import StrEnum
from functools import cache

from django.apps import apps
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef

from accounts.models import Membership, Merchant, User
from accounts.selectors import membership_for_user, merchant_for_user

PLATFORM_ADMINS_GROUP = "Platform admins"
REVIEWERS_GROUP = "Reviewers"


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    SIGNED_IN = "signed_in"
    MEMBER = "member"
    OWNER = "owner"
    REVIEWER = "reviewer"
    PLATFORM_ADMIN = "platform_admin"


ROLE_NAMES = {
    Role.ANONYMOUS: "anyone",
    Role.SIGNED_IN: "signed-in users",
    Role.MEMBER: "merchant members",
    Role.OWNER: "merchant owners",
    Role.REVIEWER: "reviewers",
    Role.PLATFORM_ADMIN: "platform admins",
}

# Roles that act on every merchant, and roles that act on one merchant.
PLATFORM_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.REVIEWER})
MERCHANT_ROLES = frozenset({Role.OWNER, Role.MEMBER})


class Capability(StrEnum):
    CATEGORY_VIEW = "category.view"
    CATEGORY_MANAGE = "category.manage"
    PRODUCT_VIEW = "product.view"
    PRODUCT_MANAGE = "product.manage"  # products and their photos
    CATALOG_IMPORT = "catalog.import"  # bulk imports of products and photos
    IMAGE_VIEW = "image.view"
    IMAGE_RECLASSIFY = "image.reclassify"
    CLASSIFY = "classify"
    STATS_VIEW = "stats.view"
    PREDICTION_VIEW = "prediction.view"
    PREDICTION_REVIEW = "prediction.review"
    REVIEW_DETAILS_VIEW = "review.details"  # who reviewed, and their notes
    REVIEW_UNDO = "review.undo"  # one's own decisions
    REVIEW_UNDO_ANY = "review.undo_any"  # anyone's decisions
    MODEL_MANAGE = "model.manage"  # versions, training, roll-out, jobs
    WEBHOOK_MANAGE = "webhook.manage"
    MEMBER_MANAGE = "member.manage"
    MERCHANT_VIEW = "merchant.view"
    TOKEN_CREATE = "token.create"  # exchange a password for a token
    ACCOUNT_OWN = "account.own"  # who am I, my tokens
    DASHBOARD_VIEW = "dashboard.view"
    HEALTH_DETAILS_VIEW = "health.details"
    ADMIN_REVIEW_QUEUE = "admin.review_queue"
    ADMIN_MANAGE = "admin.manage"  # every model of the admin


ANYONE = frozenset({Role.ANONYMOUS, Role.SIGNED_IN})
_ADMIN = Role.PLATFORM_ADMIN
_REVIEWER = Role.REVIEWER
_OWNER = Role.OWNER
_MEMBER = Role.MEMBER

CAPABILITIES: dict[Capability, frozenset[Role]] = {
    Capability.CATEGORY_VIEW: ANYONE,
    Capability.CATEGORY_MANAGE: frozenset({_ADMIN}),
    Capability.PRODUCT_VIEW: frozenset({_ADMIN, _REVIEWER, _OWNER, _MEMBER}),
    Capability.PRODUCT_MANAGE: frozenset({_ADMIN, _OWNER, _MEMBER}),
    # The merchant's own people only: an import belongs to one merchant.
    Capability.CATALOG_IMPORT: frozenset({_OWNER, _MEMBER}),
    Capability.IMAGE_VIEW: frozenset({_ADMIN, _REVIEWER, _OWNER, _MEMBER}),
    Capability.IMAGE_RECLASSIFY: frozenset({_ADMIN}),
    Capability.CLASSIFY: frozenset({_ADMIN, _OWNER, _MEMBER}),
    Capability.STATS_VIEW: frozenset({_ADMIN, _OWNER, _MEMBER}),
    Capability.PREDICTION_VIEW: frozenset({_ADMIN, _REVIEWER, _OWNER, _MEMBER}),
    Capability.PREDICTION_REVIEW: frozenset({_ADMIN, _REVIEWER}),
    Capability.REVIEW_DETAILS_VIEW: frozenset({_ADMIN, _REVIEWER}),
    Capability.REVIEW_UNDO: frozenset({_ADMIN, _REVIEWER}),
    Capability.REVIEW_UNDO_ANY: frozenset({_ADMIN}),
    Capability.MODEL_MANAGE: frozenset({_ADMIN}),
    Capability.WEBHOOK_MANAGE: frozenset({_ADMIN, _OWNER}),
    Capability.MEMBER_MANAGE: frozenset({_ADMIN, _OWNER}),
    Capability.MERCHANT_VIEW: frozenset({_ADMIN}),
    Capability.TOKEN_CREATE: ANYONE,
    Capability.ACCOUNT_OWN: frozenset({Role.SIGNED_IN}),
    Capability.DASHBOARD_VIEW: frozenset({_ADMIN}),
    Capability.HEALTH_DETAILS_VIEW: frozenset({_ADMIN}),
    Capability.ADMIN_REVIEW_QUEUE: frozenset({_ADMIN, _REVIEWER}),
    Capability.ADMIN_MANAGE: frozenset({_ADMIN}),
}

# The admin's model permissions each capability gives; "*" is every permission
# of the apps in ADMIN_APPS.
ADMIN_APPS = ("accounts", "auth", "catalog", "classification", "webhooks")
ADMIN_PERMISSIONS: dict[Capability, frozenset[str]] = {
    Capability.ADMIN_MANAGE: frozenset({"*"}),
    Capability.ADMIN_REVIEW_QUEUE: frozenset(
        {"classification.view_reviewitem", "classification.change_reviewitem"}
    ),
}


def user_roles(user: User) -> frozenset[Role]:
    """Return the user's roles (cached on the user for the request)."""
    if not (user and user.is_authenticated and user.is_active):
        return frozenset({Role.ANONYMOUS})
    cached = getattr(user, "_vitrine_roles", None)
    if cached is not None:
        return cached
    roles = {Role.SIGNED_IN}
    if user.is_superuser:
        roles.add(Role.PLATFORM_ADMIN)
    if user.is_staff and not user.is_superuser:
        in_admins, in_reviewers = _staff_groups_and_membership(user)
        if in_admins:
            roles.add(Role.PLATFORM_ADMIN)
        if in_reviewers:
            roles.add(Role.REVIEWER)
    membership = membership_for_user(user=user)
    if membership is not None:
        owner = membership.role == Membership.Role.OWNER
        roles.add(Role.OWNER if owner else Role.MEMBER)
    user._vitrine_roles = frozenset(roles)
    return user._vitrine_roles


def _staff_groups_and_membership(user: User) -> tuple[bool, bool]:
    """Whether a staff user is in each group, in one query that also caches
    the user's membership for merchant_for_user."""
    in_group = {
        name: Exists(Group.objects.filter(user=OuterRef("pk"), name=name))
        for name in (PLATFORM_ADMINS_GROUP, REVIEWERS_GROUP)
    }
    row = (
        User.objects.select_related("membership__merchant")
        .annotate(in_admins=in_group[PLATFORM_ADMINS_GROUP])
        .annotate(in_reviewers=in_group[REVIEWERS_GROUP])
        .get(pk=user.pk)
    )
    if not hasattr(user, "_vitrine_membership"):
        try:
            user._vitrine_membership = row.membership
        except Membership.DoesNotExist:
            user._vitrine_membership = None
    return row.in_admins, row.in_reviewers


def _granted(user: User, capability: Capability) -> frozenset[Role]:
    return user_roles(user) & CAPABILITIES[capability]


def user_can(
    user: User, capability: Capability, merchant: Merchant | None = None
) -> bool:
    """May ``user`` use ``capability`` (on ``merchant``'s data, when given)?

    Without a merchant, a merchant role counts for the user's own merchant.
    """
    granted = _granted(user, capability)
    if granted - MERCHANT_ROLES:
        return True
    if not granted:
        return False
    own = merchant_for_user(user=user)
    return merchant is None or (own is not None and own.pk == merchant.pk)


def denial_message(capability: Capability) -> str:
    """Say who may use ``capability``, for a 403."""
    roles = [ROLE_NAMES[role] for role in Role if role in CAPABILITIES[capability]]
    if len(roles) > 1:
        return f"Only {', '.join(roles[:-1])} and {roles[-1]} may do this."
    return f"Only {roles[0]} may do this."


def merchant_scope(user: User, capability: Capability) -> Merchant | None:
    """The merchant whose data ``user`` may reach with ``capability``.

    None means every merchant (a platform role holds it). Raise PermissionDenied
    when the user may not use the capability at all.
    """
    granted = _granted(user, capability)
    if granted - MERCHANT_ROLES:
        return None
    if granted:
        return merchant_for_user(user=user)
    raise PermissionDenied(denial_message(capability))


def own_merchant_scope(user: User, capability: Capability) -> Merchant:
    """The user's own merchant, when their merchant role holds ``capability``.

    The merchant pages use this: platform roles work in the admin instead.
    """
    if _granted(user, capability) & MERCHANT_ROLES:
        return merchant_for_user(user=user)
    if merchant_for_user(user=user) is None:
        raise PermissionDenied(
            "This account belongs to no merchant. Platform staff work in the admin."
        )
    raise PermissionDenied(denial_message(capability))


# --- The admin ----------------------------------------------------------------


@cache  # the models are fixed once Django has started
def _all_admin_permissions() -> frozenset[str]:
    perms = set()
    for app_label in ADMIN_APPS:
        for model in apps.get_app_config(app_label).get_models():
            opts = model._meta
            for action in opts.default_permissions:
                perms.add(f"{opts.app_label}.{action}_{opts.model_name}")
            for codename, _ in opts.permissions:
                perms.add(f"{opts.app_label}.{codename}")
    return frozenset(perms)


def user_admin_permissions(user: User) -> frozenset[str]:
    """The admin's model permissions ``user``'s roles give (cached on the user
    for the request, as its roles are: an admin page asks for dozens)."""
    cached = getattr(user, "_vitrine_admin_permissions", None)
    if cached is not None:
        return cached
    perms: set[str] = set()
    for capability, granted in ADMIN_PERMISSIONS.items():
        if user_can(user, capability):
            perms |= _all_admin_permissions() if "*" in granted else granted
    user._vitrine_admin_permissions = frozenset(perms)
    return user._vitrine_admin_permissions


class RoleBackend(ModelBackend):
    """Sign in as Django's ModelBackend does; take permissions from the roles.

    Permissions given to users or groups in the database are ignored, so the
    admin cannot drift from the table above.
    """

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(user_admin_permissions(user_obj))
