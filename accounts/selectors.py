"""Reads about users and merchants."""

from accounts.models import Membership, Merchant, User


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
