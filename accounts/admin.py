from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import Membership, Merchant, User


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
