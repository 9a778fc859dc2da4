"""Writes for users and merchants."""

from django.db import transaction
from django.utils.text import slugify

from accounts.models import Membership, Merchant, User


class MerchantError(ValueError):
    """A merchant or user could not be created as asked."""


@transaction.atomic
def merchant_create(
    *, name: str, username: str, email: str, password: str | None
) -> tuple[Merchant, User]:
    """Create a merchant with its first user as owner.

    A ``password`` of None makes an account that cannot sign in until a password
    is set.
    """
    name = name.strip()
    if not name:
        raise MerchantError("The merchant needs a name.")
    slug = slugify(name)[:190] or "merchant"
    if Merchant.objects.filter(slug=slug).exists():
        raise MerchantError(f"A merchant named {name!r} already exists.")
    if User.objects.filter(username=username).exists():
        raise MerchantError(f"The username {username!r} is taken.")
    merchant = Merchant.objects.create(name=name, slug=slug)
    user = User.objects.create_user(username=username, email=email, password=password)
    Membership.objects.create(user=user, merchant=merchant, role=Membership.Role.OWNER)
    return merchant, user
