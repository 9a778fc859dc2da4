from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, Membership, Merchant, User
from accounts.services import api_token_revoke


class MembershipInline(admin.StackedInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["merchant"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "merchant_name", "is_staff", "is_active"]
    list_select_related = ["membership__merchant"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]

    @admin.display(description="Merchant", ordering="membership__merchant__name")
    def merchant_name(self, obj: User) -> str:
        membership = getattr(obj, "membership", None)
        return membership.merchant.name if membership else "—"


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "merchant__name"]
    list_select_related = ["user", "merchant"]
    autocomplete_fields = ["merchant"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke tokens; keys are never shown (only their hash is kept)."""

    list_display = [
        "prefix",
        "name",
        "user",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are made through the API, where the key is shown

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            api_token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} tokens.")
