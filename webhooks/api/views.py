"""Merchants' webhooks over the API; another merchant's answer 404."""

from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.permissions import MerchantScoped
from accounts.roles import Capability
from config.api import IdempotentCreate, MerchantWrites, write_schemas
from webhooks import selectors, services
from webhooks.api.filters import WebhookFilter
from webhooks.api.serializers import (
    DeliverySerializer,
    WebhookCreatedSerializer,
    WebhookInputSerializer,
    WebhookSerializer,
)
from webhooks.models import Webhook


def _with_secret(webhook: Webhook, code: int) -> Response:
    """The webhook with its secret, in an answer no cache keeps."""
    response = Response(WebhookCreatedSerializer(webhook).data, status=code)
    add_never_cache_headers(response)
    return response


@extend_schema_view(
    list=extend_schema(
        description="Owners: the merchant's webhooks (platform admins: all)."
    ),
    retrieve=extend_schema(description="One webhook (its secret is not shown)."),
    **write_schemas(
        request=WebhookInputSerializer,
        response=WebhookSerializer,
        created=WebhookCreatedSerializer,
        create="Subscribe a URL to events. The answer holds the signing "
        "secret, shown only this once. Each delivery is a POST of JSON signed "
        "in `X-Vitrine-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
        '"<t>.<body>" with the secret>`; a delivery not answered 2xx is retried '
        "by the periodic upkeep with backoff (7 attempts over about half an "
        "hour). A retry with the same `Idempotency-Key` answers the webhook "
        "without its secret (header `Idempotent-Withheld: secret`): rotate it "
        "to get a new one.",
    ),
    destroy=extend_schema(description="Delete the webhook and its delivery log."),
)
@extend_schema(tags=["webhooks"])
class WebhookViewSet(
    MerchantScoped, MerchantWrites, IdempotentCreate, viewsets.ModelViewSet
):
    serializer_class = WebhookSerializer
    model = Webhook
    scoped_list = selectors.webhook_list
    scoped_get = selectors.webhook_get
    merchant_foreign = "A merchant can only add its own webhooks."
    merchant_moved = "A webhook cannot move to another merchant."
    secret_fields = ("secret",)
    capabilities = {
        action: Capability.WEBHOOK_MANAGE
        for action in (
            "list",
            "retrieve",
            "create",
            "update",
            "partial_update",
            "destroy",
            "deliveries",
            "rotate_secret",
        )
    }
    filterset_class = WebhookFilter
    ordering_fields = ["created_at"]

    def create_once(self, request):
        merchant, fields = self.create_input(WebhookInputSerializer)
        webhook = services.webhook_create(
            merchant=merchant, user=request.user, **fields
        )
        return _with_secret(webhook, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        webhook, fields = self.update_input(
            WebhookInputSerializer, partial=kwargs.get("partial", False)
        )
        webhook = services.webhook_update(webhook=webhook, **fields)
        return Response(WebhookSerializer(webhook).data)

    def perform_destroy(self, instance):
        services.webhook_delete(webhook=instance)

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=None,
        responses=WebhookCreatedSerializer,
        description="Replace the webhook's signing secret and answer the new one, "
        "shown only this once. Deliveries are signed with it from now on; the old "
        "secret stops working at once.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-secret",
        filterset_class=None,
        ordering_fields=[],
    )
    def rotate_secret(self, request, pk=None):
        webhook = services.webhook_secret_rotate(webhook=self.get_object())
        return _with_secret(webhook, status.HTTP_200_OK)

    @extend_schema(
        operation_id="webhooks_deliveries",
        responses=DeliverySerializer(many=True),
        description="The webhook's delivery log, newest first.",
    )
    @action(detail=True, methods=["get"], filterset_class=None, ordering_fields=[])
    def deliveries(self, request, pk=None):
        deliveries = selectors.delivery_list(webhook=self.get_object())
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
