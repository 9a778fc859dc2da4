"""Who may call what: each API view names a capability per action, and the
roles table in accounts/roles.py decides.

A view sets ``capabilities``: its actions (viewsets) or lower-case methods (plain
views) mapped to a :class:`~accounts.roles.Capability`. An action missing from
the map is refused, so a new action cannot ship unguarded.
"""

from rest_framework import permissions

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
