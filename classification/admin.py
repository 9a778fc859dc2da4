from django.contrib import admin

from catalog.admin import thumbnail_html
from classification.models import Job, ModelVersion, Prediction, Review


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "architecture", "status", "created_at", "activated_at"]
    list_filter = ["status", "architecture"]
    search_fields = ["name"]
    readonly_fields = [
        "artifact",
        "checksum",
        "classes",
        "preprocessing",
        "metrics",
        "training",
        "created_by",
        "created_at",
        "activated_at",
    ]


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


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "progress", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [
        "kind",
        "status",
        "progress",
        "message",
        "params",
        "result",
        "model_version",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
