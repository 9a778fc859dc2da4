"""Model versions and jobs: metrics people can read, roll-out actions, and a
form that starts a training job (the metrics' HTML lives in ``presenters``).
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from classification.admin.presenters import (
    STYLESHEETS,
    confusion_matrix_html,
    metrics_summary_html,
    per_class_html,
    percent,
    progress_html,
    when,
)
from classification.admin.training import TrainingForm
from classification.models import Job, ModelVersion
from classification.services.reclassification import reclassify_job_start
from classification.services.training import TrainingError
from classification.services.training.data import training_data_root
from classification.services.training.jobs import training_job_start
from classification.services.training.preview import training_preview
from classification.services.versions import (
    NothingToRollBack,
    model_version_activate,
    model_version_rollback,
)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "status",
        "accuracy",
        "created_by",
        "created",
        "activated",
    ]
    list_filter = ["status", "architecture"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "name",
        "architecture",
        "status",
        "summary",
        "per_class",
        "confusion_matrix",
        "artifact",
        "checksum",
        "classes",
        "preprocessing",
        "training",
        "metrics",
        "created_by",
        "created_at",
        "activated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "architecture", "status", "created_by"]}),
        ("Evaluation", {"fields": ["summary", "per_class", "confusion_matrix"]}),
        (
            "Artifact",
            {"fields": ["artifact", "checksum", "classes", "preprocessing"]},
        ),
        (
            "Training and raw metrics",
            {
                "classes": ["collapse"],
                "fields": ["training", "metrics", "created_at", "activated_at"],
            },
        ),
    ]
    actions = [
        "activate_selected",
        "roll_back",
        "reclassify_unseen",
        "reclassify_all",
    ]
    change_list_template = "admin/classification/modelversion/change_list.html"

    class Media:
        css = STYLESHEETS

    def has_add_permission(self, request):
        return False  # versions come from training, not from a form

    @admin.display(description="Accuracy")
    def accuracy(self, obj):
        return percent((obj.metrics or {}).get("accuracy"))

    # Compact times (and the architecture left to the filter) keep every column
    # of the list in view on a laptop screen.
    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return when(obj.created_at)

    @admin.display(description="Activated", ordering="activated_at")
    def activated(self, obj):
        return when(obj.activated_at)

    @admin.display(description="Summary")
    def summary(self, obj):
        return metrics_summary_html(obj.metrics or {})

    @admin.display(description="Per category")
    def per_class(self, obj):
        return per_class_html(obj.metrics or {})

    @admin.display(description="Confusion matrix")
    def confusion_matrix(self, obj):
        return confusion_matrix_html(obj.metrics or {})

    @admin.action(description="Activate the selected version", permissions=["change"])
    def activate_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one version to activate.", messages.WARNING
            )
            return
        version = model_version_activate(version=queryset.get())
        self.message_user(
            request, f"{version.name} is active; workers switch on their next task."
        )

    @admin.action(
        description="Roll back to the previously active version (selection ignored)",
        permissions=["change"],
    )
    def roll_back(self, request, queryset):
        try:
            version = model_version_rollback(user=request.user)
        except NothingToRollBack as error:
            self.message_user(request, str(error), messages.WARNING)
            return
        self.message_user(request, f"Rolled back: {version.name} is active.")

    def _reclassify(self, request, *, only_unseen: bool):
        with transaction.atomic():
            job = reclassify_job_start(only_unseen=only_unseen, user=request.user)
        url = reverse("admin:classification_job_change", args=[job.pk])
        self.message_user(
            request,
            format_html(
                'Re-classification started: <a href="{}">job {}</a>.', url, job.pk
            ),
        )

    @admin.action(
        description="Re-classify photos the active version has not seen",
        permissions=["change"],
    )
    def reclassify_unseen(self, request, queryset):
        self._reclassify(request, only_unseen=True)

    @admin.action(
        description="Re-classify all photos with the active version",
        permissions=["change"],
    )
    def reclassify_all(self, request, queryset):
        self._reclassify(request, only_unseen=False)

    def get_urls(self):
        return [
            path(
                "train/",
                self.admin_site.admin_view(self.train_view),
                name="classification_modelversion_train",
            ),
            *super().get_urls(),
        ]

    def train_view(self, request):
        """A form that previews the data ("Preview the data") or starts a
        training job ("Start training"), then shows the job."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = TrainingForm(request.POST or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            try:
                if "preview" in request.POST:
                    preview = training_preview(
                        params=form.params(), data_root=training_data_root()
                    )
                else:
                    with transaction.atomic():
                        job = training_job_start(
                            params=form.params(), user=request.user
                        )
                    self.message_user(
                        request,
                        f"Training job {job.pk} queued; its progress shows here.",
                    )
                    return redirect("admin:classification_job_change", job.pk)
            except TrainingError as error:
                form.add_training_error(error)
        context = {
            **self.admin_site.each_context(request),
            "title": "Train a new model version",
            "form": form,
            "preview": preview,
            "opts": self.model._meta,
            "data_root": settings.VITRINE_TRAINING_DATA_ROOT,
        }
        return TemplateResponse(
            request, "admin/classification/modelversion/train.html", context
        )


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
