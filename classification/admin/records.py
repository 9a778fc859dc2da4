"""The records classification and the queue write: predictions and reviews.

Read-only to add: they come from classifying photos and deciding on them.
"""

from django.contrib import admin

from catalog.admin import thumbnail_html
from classification.models import Prediction, Review


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "image",
        "category",
        "confidence",
        "status",
        "model_version",
        "is_current",
        "created_at",
    ]
    list_filter = ["status", "is_current", "model_version", "category"]
    list_select_related = ["image", "category", "model_version"]
    search_fields = ["image__product__name", "image__product__sku"]
    readonly_fields = [
        "image",
        "model_version",
        "category",
        "confidence",
        "margin",
        "top_k",
        "latency_ms",
        "status",
        "error",
        "is_current",
        "created_at",
    ]
    date_hierarchy = "created_at"

    @admin.display(description="Photo")
    def preview(self, obj):
        return thumbnail_html(obj.image)

    def has_add_permission(self, request):
        # Written by classification and by the review queue, not by hand.
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = [
        "prediction",
        "decision",
        "final_category",
        "reviewer",
        "created_at",
    ]
    list_filter = ["decision", "final_category"]
    list_select_related = ["prediction", "final_category", "reviewer"]
    raw_id_fields = ["prediction"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        # Written by classification and by the review queue, not by hand.
        return False
