from django.contrib import admin

from webhooks.models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "merchant", "active", "created_at"]
    list_filter = ["active"]
    list_select_related = ["merchant"]
    search_fields = ["url", "merchant__name"]
    readonly_fields = ["secret", "created_by", "created_at", "updated_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "event",
        "webhook",
        "status",
        "attempts",
        "response_code",
        "created_at",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["webhook"]
    readonly_fields = [
        "webhook",
        "event",
        "payload",
        "status",
        "attempts",
        "response_code",
        "error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    ]
