"""Reads about users and merchants."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, Membership, Merchant, User


def merchant_for_user(*, user: User) -> Merchant | None:
    """Return the merchant the user belongs to, or None (staff, anonymous)."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_vitrine_merchant", False)
    if cached is not False:
        return cached
    membership = Membership.objects.select_related("merchant").filter(user=user).first()
    merchant = membership.merchant if membership else None
    user._vitrine_merchant = merchant
    return merchant


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's tokens, live and revoked, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_get(*, user: User, pk: int) -> ApiToken:
    """Return the user's token, or raise Http404 for anyone else's."""
    return get_object_or_404(api_token_list(user=user), pk=pk)


REVIEWERS_GROUP = "Reviewers"


def user_is_reviewer(*, user: User) -> bool:
    """Superusers, and staff in the "Reviewers" group, may review predictions."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return user.is_staff and user.groups.filter(name=REVIEWERS_GROUP).exists()


def merchant_list() -> QuerySet[Merchant]:
    return Merchant.objects.order_by("name", "id")


def merchant_names(*, ids) -> dict[int, str]:
    """Map each of the merchant ids to the merchant's name."""
    return dict(Merchant.objects.filter(pk__in=list(ids)).values_list("pk", "name"))
