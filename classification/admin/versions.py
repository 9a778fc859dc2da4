"""Model versions: evaluation reports people can read, roll-out actions, and a
form that starts a training job (the metrics' HTML lives in ``presenters``).
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseBase
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog.selectors import category_names
from classification.admin.activation import activate_view
from classification.admin.presenters import (
    STYLESHEETS,
    confusion_matrix_html,
    metrics_summary_html,
    per_class_html,
    percent,
    precision_curve_html,
    when,
)
from classification.admin.thresholds import thresholds_view
from classification.admin.training import TrainingForm
from classification.models import ModelVersion
from classification.rollout import shadow_comparison, version_review_share
from classification.services.reclassification import reclassify_job_start
from classification.services.shadow import (
    ShadowError,
    model_version_shadow_start,
    model_version_shadow_stop,
)
from classification.services.training import TrainingError
from classification.services.training.data import training_data_root
from classification.services.training.jobs import training_job_start
from classification.services.training.preview import training_preview
from classification.services.versions import (
    NothingToRollBack,
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
        "precision_curve",
        "roll_out",
        "wrong_photos",
        "artifact",
        "checksum",
        "serving",
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
        (
            "Evaluation",
            {
                "fields": [
                    "summary",
                    "per_class",
                    "confusion_matrix",
                    "precision_curve",
                    "wrong_photos",
                ]
            },
        ),
        ("Shadow results and activation", {"fields": ["roll_out"]}),
        (
            "Artifact",
            {
                "fields": [
                    "artifact",
                    "checksum",
                    "serving",
                    "classes",
                    "preprocessing",
                ]
            },
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
        "shadow_start",
        "shadow_stop",
        "roll_back",
        "propose_thresholds",
        "reclassify_unseen",
        "reclassify_all",
    ]
    change_list_template = "admin/classification/modelversion/change_list.html"
    # Actions about the whole platform, not the rows: they run with no row ticked.
    selection_free_actions = frozenset(
        {"roll_back", "propose_thresholds", "reclassify_unseen", "reclassify_all"}
    )

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        if action in self.selection_free_actions and not request.POST.getlist(
            helpers.ACTION_CHECKBOX_NAME
        ):
            actions = self.get_actions(request)
            if action in actions:
                func = actions[action].func
                response = func(self, request, self.get_queryset(request))
                if isinstance(response, HttpResponseBase):
                    return response
                return redirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

    class Media:
        css = STYLESHEETS

    def has_add_permission(self, request):
        return False  # versions come from training, not from a form

    def has_delete_permission(self, request, obj=None):
        # A version is evidence (predictions point at it): never deleted here.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # An evaluation report, not a form: nothing on it is edited.
        extra_context = {
            "title": "Model version: evaluation report",
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

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
        return metrics_summary_html(
            obj.metrics or {}, review_share=version_review_share(obj)
        )

    @admin.display(description="Per category")
    def per_class(self, obj):
        return per_class_html(obj.metrics or {})

    @admin.display(description="Confusion matrix")
    def confusion_matrix(self, obj):
        return confusion_matrix_html(obj.metrics or {}, names=category_names())

    @admin.display(description="Precision and coverage")
    def precision_curve(self, obj):
        return precision_curve_html(obj.metrics or {}, category_names())

    @admin.display(description="Against the active version")
    def roll_out(self, obj):
        comparison = shadow_comparison(version=obj)
        shadow = render_to_string(
            "admin/classification/modelversion/_shadow.html",
            {"shadow": comparison if comparison["photos"] else None},
        )
        if obj.status == ModelVersion.Status.ACTIVE:
            return mark_safe(shadow)  # rendered by the template engine
        url = reverse("admin:classification_modelversion_activate", args=[obj.pk])
        return format_html(
            '{}<p><a class="button" href="{}">Compare with the active version '
            "and activate…</a></p>",
            mark_safe(shadow),  # rendered by the template engine
            url,
        )

    @admin.display(description="Test photos it got wrong")
    def wrong_photos(self, obj):
        return (
            "Not shown: a version stores its evaluation's figures, not which "
            "test photos it classified (the split is described under Training). "
            "The confusion matrix above counts its mistakes; the shadow results "
            "show real photos."
        )

    @admin.action(
        description="Activate the selected version (after a comparison)",
        permissions=["change"],
    )
    def activate_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one version to activate.", messages.WARNING
            )
            return None
        return redirect("admin:classification_modelversion_activate", queryset.get().pk)

    @admin.action(
        description="Run the selected version in shadow on new uploads",
        permissions=["change"],
    )
    def shadow_start(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request,
                "Select exactly one version to run in shadow.",
                messages.WARNING,
            )
            return
        try:
            version = model_version_shadow_start(version=queryset.get())
        except ShadowError as error:
            self.message_user(request, str(error), messages.WARNING)
            return
        self.message_user(
            request,
            f"{version.name} runs in shadow: it predicts new uploads beside the "
            "active version and acts on nothing.",
        )

    @admin.action(description="Stop the shadow run", permissions=["change"])
    def shadow_stop(self, request, queryset):
        for version in queryset.filter(status=ModelVersion.Status.SHADOW):
            model_version_shadow_stop(version=version)
            self.message_user(request, f"{version.name} no longer runs in shadow.")

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

    @admin.action(
        description="Propose auto-accept thresholds from reviews and audits "
        "(selection ignored)",
        permissions=["change"],
    )
    def propose_thresholds(self, request, queryset):
        return redirect("admin:classification_modelversion_thresholds")

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
            path(
                "<path:object_id>/activate/",
                self.admin_site.admin_view(
                    lambda request, object_id: activate_view(self, request, object_id)
                ),
                name="classification_modelversion_activate",
            ),
            path(
                "thresholds/",
                self.admin_site.admin_view(
                    lambda request: thresholds_view(self, request)
                ),
                name="classification_modelversion_thresholds",
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
