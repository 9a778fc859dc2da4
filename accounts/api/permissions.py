"""Who may call what: anonymous, merchant members, staff, reviewers."""

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied

from accounts.models import Merchant
from accounts.selectors import merchant_for_user, user_is_reviewer

NO_MERCHANT = "This account belongs to no merchant."


def request_merchant(request) -> Merchant | None:
    """The merchant whose data the request may see; None means all (staff).

    Staff see every merchant, even a staff user who is also some merchant's member.
    A signed-in user who is neither staff nor a member gets 403.
    """
    if request.user.is_staff:
        return None
    merchant = merchant_for_user(user=request.user)
    if merchant is None:
        raise PermissionDenied(NO_MERCHANT)
    return merchant


class IsMerchantOrStaff(permissions.IsAuthenticated):
    """A merchant's member (their own data) or staff (everyone's)."""

    message = NO_MERCHANT

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.user.is_staff or merchant_for_user(user=request.user) is not None


class IsStaff(permissions.IsAuthenticated):
    message = "Only platform staff may do this."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_staff


class IsReviewer(permissions.IsAuthenticated):
    message = "Only reviewers (staff in the Reviewers group) may review."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and user_is_reviewer(
            user=request.user
        )


class ReadForAllWriteForStaff(permissions.BasePermission):
    """Anyone reads, even without signing in; only staff write."""

    message = "Only platform staff may change this."
    anonymous_reads = True  # the schema shows reads need no credentials

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_staff)
