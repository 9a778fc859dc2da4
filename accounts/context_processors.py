from django.http import HttpRequest

from accounts.selectors import merchant_for_user


def current_merchant(request: HttpRequest) -> dict:
    """Expose the signed-in user's merchant to templates as ``current_merchant``."""
    return {"current_merchant": merchant_for_user(user=request.user)}
