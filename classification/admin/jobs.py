"""Background jobs (training, re-classification): progress people can read."""

from django.contrib import admin

from classification.admin.presenters import STYLESHEETS, progress_html
from classification.models import Job

JOB_REFRESH_SECONDS = 3


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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A job still queued or running: the page reloads itself (every
        ``JOB_REFRESH_SECONDS``) to show its progress."""
        job = self.get_object(request, object_id)
        in_progress = job is not None and job.status in (
            Job.Status.QUEUED,
            Job.Status.RUNNING,
        )
        extra_context = {
            **(extra_context or {}),
            "refresh_seconds": JOB_REFRESH_SECONDS if in_progress else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Progress", ordering="progress")
    def progress_bar(self, obj):
        return progress_html(obj.progress)
