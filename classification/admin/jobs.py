"""Background jobs (training, re-classification): progress people can read."""

from django.contrib import admin

from classification.admin.presenters import STYLESHEETS, progress_html
from classification.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "status",
        "progress_bar",
        "message",
        "model_version",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["model_version", "created_by"]
    readonly_fields = [
        "kind",
        "status",
        "progress_bar",
        "message",
        "params",
        "result",
        "model_version",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
    exclude = ["progress"]

    class Media:
        css = STYLESHEETS

    def has_add_permission(self, request):
        return False

    @admin.display(description="Progress", ordering="progress")
    def progress_bar(self, obj):
        return progress_html(obj.progress)
