"""Input and output shapes for webhooks and their deliveries."""

from rest_framework import serializers

from accounts.selectors import merchant_list
from config.fields import IdRelatedField
from webhooks.models import Delivery, Event, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))

    class Meta:
        model = Webhook
        fields = [
            "id",
            "merchant",
            "url",
            "events",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="Verifies the X-Vitrine-Signature of each delivery. Shown only "
        "now: store it safely."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookInputSerializer(serializers.Serializer):
    merchant = IdRelatedField(
        queryset=merchant_list(),
        required=False,
        help_text="Staff only, and required for staff: whose webhook it is.",
    )
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices), allow_empty=False
    )
    active = serializers.BooleanField(default=True)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_code",
            "error",
            "payload",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields
