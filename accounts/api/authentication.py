"""Token authentication for machines: ``Authorization: Token <key>``."""

from rest_framework import authentication, exceptions

from accounts import services

KEYWORDS = ("token", "bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate with a key made at ``POST /api/v1/auth/token/``.

    ``Bearer`` is accepted as well as ``Token``. A revoked, expired or unknown
    key is refused with 401, whatever else the request carries.
    """

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Token <key>'."
            )
        try:
            key = header[1].decode()
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(
                "The token holds characters a key never has."
            ) from error
        try:
            token = services.api_token_authenticate(key=key)
        except services.ApiTokenExpired as error:
            raise exceptions.AuthenticationFailed(
                f"{error} Make a new one at POST /api/v1/auth/token/.",
                code="token_expired",
            ) from error
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"
