"""Input and output shapes for the auth and account endpoints."""

from rest_framework import serializers

from accounts.models import ApiToken, Membership, Merchant


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
    is_reviewer = serializers.BooleanField(help_text="May review predictions.")
    is_platform_admin = serializers.BooleanField()
    roles = serializers.ListField(
        child=serializers.CharField(),
        help_text="The caller's roles: platform_admin, reviewer, owner, member "
        "(and signed_in).",
    )
    merchant = MerchantSerializer(allow_null=True)


class TokensRevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(
        help_text="How many tokens were live and are revoked now."
    )


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.CharField(source="user.email", read_only=True)
    merchant = serializers.IntegerField(source="merchant_id", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "email", "merchant", "role", "created_at"]
        read_only_fields = fields


class MemberCreateInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    password = serializers.CharField(
        max_length=4096,
        style={"input_type": "password"},
        help_text="The new member's first password; they may change it.",
    )
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    merchant = serializers.PrimaryKeyRelatedField(
        queryset=Merchant.objects.all(),
        required=False,
        help_text="Platform admins only: the merchant to add the member to.",
    )


class MemberUpdateInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)
