from django.http import HttpRequest

from accounts.roles import Capability, user_can
from accounts.selectors import merchant_for_user


def current_merchant(request: HttpRequest) -> dict:
    """Expose the signed-in user's merchant to templates as ``current_merchant``,
    and whether the header links to the dashboard (``can_view_dashboard``)."""
    return {
        "current_merchant": merchant_for_user(user=request.user),
        "can_view_dashboard": user_can(request.user, Capability.DASHBOARD_VIEW),
    }
