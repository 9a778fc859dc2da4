"""Who may call what: each API view names a capability per action, and the
roles table in accounts/roles.py decides.

A view sets ``capabilities``: its actions (viewsets) or lower-case methods (plain
views) mapped to a :class:`~accounts.roles.Capability`. An action missing from
the map is refused, so a new action cannot ship unguarded.
"""

from collections.abc import Callable

from rest_framework import permissions
from rest_framework.exceptions import ValidationError

from accounts.models import Merchant
from accounts.roles import (
    Capability,
    denial_message,
    merchant_scope,
    user_can,
)


def view_capability(view, method: str) -> Capability | None:
    """The capability the view's current action (or ``method``) needs."""
    capabilities = getattr(view, "capabilities", {})
    action = getattr(view, "action", None) or method.lower()
    if action in capabilities:
        return capabilities[action]
    if method.upper() in ("OPTIONS", "HEAD"):
        # Describing a route needs what reading it needs (or its first action).
        for read in ("list", "retrieve", "get"):
            if read in capabilities:
                return capabilities[read]
        return next(iter(capabilities.values()), None)
    return None


def request_merchant(request, view) -> Merchant | None:
    """The merchant whose data the request may reach; None means every merchant.

    Raise PermissionDenied when the caller's roles do not hold the capability.
    """
    return merchant_scope(request.user, view_capability(view, request.method))


def merchant_for_create(
    request,
    view,
    *,
    chosen: Merchant | None,
    foreign: str,
    missing: str = "A platform admin must name the merchant.",
) -> Merchant:
    """The merchant a new object belongs to: the caller's own, or the one a
    platform admin names (``missing`` when they name none). A merchant's member
    naming another merchant is refused with ``foreign``.
    """
    own = request_merchant(request, view)
    if own is None:  # a platform admin
        if chosen is None:
            raise ValidationError({"merchant": [missing]})
        return chosen
    if chosen is not None and chosen.pk != own.pk:
        raise ValidationError({"merchant": [foreign]})
    return own


def merchant_unchanged(
    *, chosen: Merchant | None, current_id: int, message: str
) -> None:
    """Refuse an update that names a merchant other than the object's own."""
    if chosen is not None and chosen.pk != current_id:
        raise ValidationError({"merchant": [message]})


# A viewset over the rows of the caller's merchant (every merchant's for a platform
# admin), read by the selectors it names: ``scoped_list(merchant=)`` and
# ``scoped_get(merchant=, pk=)``; ``model`` answers schema generation, which has no
# caller. A comment, not a docstring: the API schema would take a docstring for the
# description of each view that has none of its own.
class MerchantScoped:
    model: type
    scoped_list: Callable
    scoped_get: Callable

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return self.model.objects.none()
        return type(self).scoped_list(merchant=request_merchant(self.request, self))

    def get_object(self):
        return type(self).scoped_get(
            merchant=request_merchant(self.request, self), pk=self.kwargs["pk"]
        )


class HasCapability(permissions.BasePermission):
    """Allow the request when the caller's roles hold the view's capability."""

    message = "You may not do this."

    def has_permission(self, request, view) -> bool:
        if not hasattr(view, request.method.lower()):
            return True  # the method is not served here: the answer is a 405
        capability = view_capability(view, request.method)
        if capability is None:
            return False
        if user_can(request.user, capability):
            return True
        self.message = denial_message(capability)
        return False
