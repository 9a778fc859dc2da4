"""Tokens for machines, and who the caller is."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import lockout, selectors, services
from accounts.api import schema  # noqa: F401  (registers the token scheme)
from accounts.api.permissions import MerchantScoped
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenSerializer,
    MemberCreateInputSerializer,
    MemberSerializer,
    MemberUpdateInputSerializer,
    MerchantSerializer,
    MeSerializer,
    TokenCreateInputSerializer,
    TokensRevokedSerializer,
)
from accounts.models import ApiToken, Membership, Merchant
from accounts.roles import Capability, Role, user_can, user_roles
from config.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    IdempotentCreate,
    MerchantWrites,
    validated,
)


class TokenCreateView(APIView):
    """Exchange a username and password for a new API token."""

    authentication_classes: list = []
    capabilities = {"post": Capability.TOKEN_CREATE}
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
        data = validated(TokenCreateInputSerializer, request)
        # The DRF request, whose parsed body the lockout reads the username from.
        user = authenticate(
            request,
            username=data["username"],
            password=data["password"],
        )
        if lockout.is_locked_out(request):
            seconds = lockout.retry_after_seconds(request)
            raise Throttled(
                wait=seconds, detail=lockout.lockout_message(seconds), code="locked_out"
            )
        if user is None or not user.is_active:
            raise AuthenticationFailed("Wrong username or password.")
        lockout.sign_in_succeeded(request=request, user=user)
        token, key = services.api_token_create(user=user, name=data["name"])
        token.key = key
        return Response(
            ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    destroy=extend_schema(
        description="Revoke the token: requests with it answer 401 from now on."
    )
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
    capabilities = {
        action: Capability.ACCOUNT_OWN
        for action in ("list", "retrieve", "destroy", "revoke_all")
    }
    filterset_fields: list = []
    ordering_fields = ["created_at", "last_used_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ApiToken.objects.none()
        return selectors.api_token_list(user=self.request.user)

    def get_object(self):
        return selectors.api_token_get(user=self.request.user, pk=self.kwargs["pk"])

    def perform_destroy(self, instance):
        services.api_token_revoke(token=instance)

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
    """Who the caller is: roles and merchant."""

    capabilities = {"get": Capability.ACCOUNT_OWN}

    @extend_schema(tags=["auth"], operation_id="auth_me", responses=MeSerializer)
    def get(self, request):
        user = request.user
        roles = user_roles(user)
        return Response(
            MeSerializer(
                {
                    "id": user.pk,
                    "username": user.get_username(),
                    "is_staff": user.is_staff,
                    "is_reviewer": user_can(user, Capability.PREDICTION_REVIEW),
                    "is_platform_admin": Role.PLATFORM_ADMIN in roles,
                    "roles": sorted(roles),
                    "merchant": selectors.merchant_for_user(user=user),
                }
            ).data
        )


@extend_schema(tags=["merchants"])
class MerchantViewSet(viewsets.ReadOnlyModelViewSet):
    """Platform admins: the merchants on the platform (their ids filter other
    lists)."""

    serializer_class = MerchantSerializer
    capabilities = {
        "list": Capability.MERCHANT_VIEW,
        "retrieve": Capability.MERCHANT_VIEW,
    }
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Merchant.objects.none()
        return selectors.merchant_list()


@extend_schema_view(
    list=extend_schema(
        description="Owners: the merchant's members, oldest first (platform "
        "admins: every merchant's)."
    ),
    retrieve=extend_schema(description="Owners: one member of the merchant."),
    create=extend_schema(
        description="Owners: make an account for a new member, who signs in with "
        "the given password (checked like any password) and may change it. A "
        "taken username answers 409. Platform admins name the `merchant`.",
        request=MemberCreateInputSerializer,
        responses={201: MemberSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    ),
    partial_update=extend_schema(
        description="Owners: make a member an owner or a plain member. The last "
        "owner cannot become a plain member (409).",
        request=MemberUpdateInputSerializer,
        responses=MemberSerializer,
    ),
    destroy=extend_schema(
        description="Owners: take the member out of the merchant and revoke "
        "their API tokens; the account stays. The last owner cannot be removed "
        "(409)."
    ),
)
@extend_schema(tags=["members"])
class MemberViewSet(
    MerchantScoped,
    MerchantWrites,
    IdempotentCreate,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = MemberSerializer
    model = Membership
    scoped_list = selectors.member_list
    scoped_get = selectors.member_get
    merchant_foreign = "An owner can only add members to their merchant."
    capabilities = {
        action: Capability.MEMBER_MANAGE
        for action in ("list", "retrieve", "create", "partial_update", "destroy")
    }
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    ordering_fields = ["created_at"]
    filterset_fields: list = []
    extra_error_codes = (409,)

    def create_once(self, request):
        merchant, fields = self.create_input(MemberCreateInputSerializer)
        membership = services.member_add(merchant=merchant, **fields)
        return Response(
            MemberSerializer(membership).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        data = validated(MemberUpdateInputSerializer, request)
        membership = services.member_role_change(
            membership=membership, role=data["role"]
        )
        return Response(MemberSerializer(membership).data)

    def perform_destroy(self, instance):
        services.member_remove(membership=instance)
