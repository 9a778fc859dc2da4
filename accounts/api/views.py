"""Tokens for machines, and who the caller is."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import lockout, selectors, services
from accounts.api import schema  # noqa: F401  (registers the token scheme)
from accounts.api.permissions import IsStaff
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    MerchantSerializer,
    MeSerializer,
    TokenCreateInputSerializer,
    TokensRevokedSerializer,
)
from accounts.models import ApiToken, Merchant


class TokenCreateView(APIView):
    """Exchange a username and password for a new API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "token"

    def get_authenticate_header(self, request) -> str:
        # Wrong credentials are a 401, as for a bad token elsewhere.
        return "Token"

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        request=TokenCreateInputSerializer,
        responses={201: ApiTokenCreatedSerializer},
        auth=[],
        description="Answer a new token for the user. The key is in this answer "
        "only; the server keeps just its hash. Wrong credentials answer 401. "
        "Limited to VITRINE_API_RATE_TOKEN attempts per client address. After "
        "VITRINE_LOGIN_FAILURE_LIMIT wrong passwords for one username, or from "
        "one address (counted with the login pages), every attempt answers 429 "
        "`locked_out` with `Retry-After`, the right password included, until "
        "the cool-off has passed. With VITRINE_API_TOKEN_LIFETIME_DAYS set, "
        "the token expires (`expires_at`).",
    )
    def post(self, request):
        data = TokenCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The DRF request, whose parsed body the lockout reads the username from.
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if lockout.is_locked_out(request):
            seconds = lockout.retry_after_seconds(request)
            raise Throttled(
                wait=seconds, detail=lockout.lockout_message(seconds), code="locked_out"
            )
        if user is None or not user.is_active:
            raise AuthenticationFailed("Wrong username or password.")
        lockout.sign_in_succeeded(request=request, user=user)
        token, key = services.api_token_create(
            user=user, name=data.validated_data["name"]
        )
        token.key = key
        return Response(
            ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED
        )


@extend_schema(tags=["auth"])
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own tokens. Deleting one revokes it (it stays listed)."""

    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields: list = []
    ordering_fields = ["created_at", "last_used_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ApiToken.objects.none()
        return selectors.api_token_list(user=self.request.user)

    def get_object(self):
        return selectors.api_token_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        description="Revoke the token: requests with it answer 401 from now on."
    )
    def destroy(self, request, *args, **kwargs):
        services.api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="auth_tokens_revoke_all",
        request=None,
        responses={200: TokensRevokedSerializer},
        description="Revoke every live token of the caller, the one this request "
        "is made with included: it answers 401 from now on. A browser session "
        "stays signed in. The tokens stay listed, with `revoked_at`.",
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request):
        revoked = services.api_tokens_revoke_all(user=request.user)
        return Response(TokensRevokedSerializer({"revoked": revoked}).data)


class MeView(APIView):
    """Who the caller is: role and merchant."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=["auth"], operation_id="auth_me", responses=MeSerializer)
    def get(self, request):
        user = request.user
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "is_staff": user.is_staff,
                    "is_reviewer": selectors.user_is_reviewer(user=user),
                    "merchant": selectors.merchant_for_user(user=user),
                }
            ).data
        )


@extend_schema(tags=["merchants"])
class MerchantViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff: the merchants on the platform (their ids filter other lists)."""

    serializer_class = MerchantSerializer
    permission_classes = [IsStaff]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Merchant.objects.none()
        return selectors.merchant_list()
