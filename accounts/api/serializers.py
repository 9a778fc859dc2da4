"""Input and output shapes for the auth and account endpoints."""

from rest_framework import serializers

from accounts.models import ApiToken, Merchant


class TokenCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="A label to tell this token apart, such as the machine using it.",
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "revoked_at",
            "expires_at",
        ]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        help_text="The secret key. It is shown only now: store it safely."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class MerchantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merchant
        fields = ["id", "name", "slug", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    is_reviewer = serializers.BooleanField()
    merchant = MerchantSerializer(allow_null=True)


class TokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(
        help_text="How many tokens were live and are revoked now."
    )
