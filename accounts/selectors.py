"""Reads about users and merchants."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, Membership, Merchant, User


def membership_for_user(*, user: User) -> Membership | None:
    """Return the user's membership with its merchant, or None (cached on the
    user for the request)."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_vitrine_membership", False)
    if cached is not False:
        return cached
    membership = Membership.objects.select_related("merchant").filter(user=user).first()
    user._vitrine_membership = membership
    return membership


def merchant_for_user(*, user: User) -> Merchant | None:
    """Return the merchant the user belongs to, or None (staff, anonymous)."""
    membership = membership_for_user(user=user)
    return membership.merchant if membership else None


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, live and revoked, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get(*, user: User, pk: int) -> ApiToken:
    """Return the user's token, or raise Http404 for anyone else's."""
    return get_object_or_404(api_token_list(user=user), pk=pk)


def merchant_list() -> QuerySet[Merchant]:
    return Merchant.objects.order_by("name", "id")


def merchant_names(*, ids) -> dict[int, str]:
    """Map each of the merchant ids to the merchant's name."""
    return dict(Merchant.objects.filter(pk__in=list(ids)).values_list("pk", "name"))


def member_list(*, merchant: Merchant | None) -> QuerySet[Membership]:
    """The merchant's memberships (None: every merchant's), oldest first."""
    memberships = Membership.objects.select_related("user", "merchant")
    if merchant is not None:
        memberships = memberships.filter(merchant=merchant)
    return memberships.order_by("created_at", "id")


def member_get(*, merchant: Merchant | None, pk: int) -> Membership:
    """Return the membership, or raise Http404 for another merchant's."""
    return get_object_or_404(member_list(merchant=merchant), pk=pk)
