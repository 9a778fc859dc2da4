"""Admin for model versions and jobs: metrics people can read, roll-out actions,
and a form that starts a training job.

Registered from ``classification.admin``.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from classification.services.reclassification import reclassify_job_start
from classification.services.training import TrainingError
from classification.services.training.jobs import training_job_start
from classification.services.training.params import MODES, SOURCES
from classification.services.versions import (
    NothingToRollBack,
    model_version_activate,
    model_version_rollback,
)


def _percent(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def metrics_summary_html(metrics: dict) -> str:
    """The headline figures as a small definition table."""
    if not metrics or "accuracy" not in metrics:
        return "No evaluation stored."
    thresholds = metrics.get("thresholds", {})
    calibration = metrics.get("calibration", {})
    rows = [
        (
            "Measured on",
            f"{metrics.get('measured_on', '?')} split, "
            f"{metrics.get('count', '?')} images",
        ),
        ("Accuracy", _percent(metrics.get("accuracy"))),
        ("Macro-F1", _number(metrics.get("macro_f1"))),
        ("Top-2 accuracy", _percent(metrics.get("top2_accuracy"))),
        ("Expected calibration error", _number(metrics.get("ece"))),
        ("Temperature", _number(metrics.get("temperature"), 3)),
        (
            "ECE on validation before / after scaling",
            f"{_number(calibration.get('ece_before'))} / "
            f"{_number(calibration.get('ece_after'))}",
        ),
        (
            "Share sent to review at the thresholds",
            _percent(thresholds.get("review_share")),
        ),
        (
            "Precision of what is auto-accepted",
            f"{_percent(thresholds.get('auto_accept_precision'))} (target "
            f"{_percent(thresholds.get('target_precision'))})",
        ),
        ("Images skipped", str(metrics.get("skipped", {}).get("count", 0))),
    ]
    body = format_html_join(
        "", "<tr><th>{}</th><td>{}</td></tr>", ((k, v) for k, v in rows)
    )
    return format_html('<table class="vitrine-metrics">{}</table>', body)


def per_class_html(metrics: dict) -> str:
    """Per-class precision, recall, F1, support and calibrated threshold."""
    headline = metrics.get(metrics.get("measured_on", ""), {})
    per_class = headline.get("per_class")
    if not per_class:
        return "–"
    thresholds = metrics.get("thresholds", {}).get("per_class", {})

    def threshold(slug):
        entry = thresholds.get(slug)
        if not entry or entry.get("threshold") is None:
            return "–"
        suffix = "" if entry.get("reached") else " (not reached)"
        return f"{entry['threshold']:.3f}{suffix}"

    rows = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                slug,
                _number(v["precision"]),
                _number(v["recall"]),
                _number(v["f1"]),
                v["support"],
                threshold(slug),
            )
            for slug, v in per_class.items()
        ),
    )
    return format_html(
        '<table class="vitrine-metrics"><thead><tr><th>Category</th>'
        "<th>Precision</th><th>Recall</th><th>F1</th><th>Support</th>"
        "<th>Auto-accept threshold</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )


def confusion_matrix_html(metrics: dict) -> str:
    """The confusion matrix as a table, rows true and columns predicted.

    Each cell's shade (a CSS class, ten steps) shows its share of its row, so the
    diagonal and the worst confusions stand out; confusions that never happened
    are left empty, so a matrix of many categories stays readable.
    """
    headline = metrics.get(metrics.get("measured_on", ""), {})
    matrix, classes = headline.get("confusion_matrix"), headline.get("classes")
    if not matrix or not classes:
        return "–"
    header = format_html_join(
        "",
        '<th scope="col" title="{}">{}</th>',
        ((c, i + 1) for i, c in enumerate(classes)),
    )
    rows = []
    for i, (name, row) in enumerate(zip(classes, matrix, strict=True)):
        total = sum(row) or 1
        cells = format_html_join(
            "",
            '<td class="{} shade-{}">{}</td>',
            (
                (
                    "diagonal" if j == i else "off",
                    # Any confusion shows, however small its share.
                    max(min(int(10 * count / total), 9), 1) if count else 0,
                    # A zero shows only where it is a miss: on the diagonal
                    # of a category with photos.
                    count if count or (j == i and any(row)) else "",
                )
                for j, count in enumerate(row)
            ),
        )
        rows.append(
            format_html('<tr><th scope="row">{}. {}</th>{}</tr>', i + 1, name, cells)
        )
    return format_html(
        '<table class="vitrine-confusion"><thead><tr><th></th>{}</tr></thead>'
        '<tbody>{}</tbody></table><p class="help">Rows: true category; columns: '
        "predicted, numbered as the rows; an empty cell is none.</p>",
        header,
        mark_safe("".join(rows)),  # each row was built with format_html
    )


def _when(value) -> str | None:
    # None shows as the admin's usual empty value.
    return date_format(localtime(value), "Y-m-d H:i") if value else None


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
        css = {"all": ["classification/admin.css"]}

    def has_add_permission(self, request):
        return False  # versions come from training, not from a form

    @admin.display(description="Accuracy")
    def accuracy(self, obj):
        return _percent((obj.metrics or {}).get("accuracy"))

    # Compact times (and the architecture left to the filter) keep every column
    # of the list in view on a laptop screen.
    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        return _when(obj.created_at)

    @admin.display(description="Activated", ordering="activated_at")
    def activated(self, obj):
        return _when(obj.activated_at)

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
        description="Re-classify images the active version has not seen",
        permissions=["change"],
    )
    def reclassify_unseen(self, request, queryset):
        self._reclassify(request, only_unseen=True)

    @admin.action(
        description="Re-classify all images with the active version",
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
        """A form that starts a training job, then shows the job."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = TrainingForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    job = training_job_start(params=form.params(), user=request.user)
            except TrainingError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request, f"Training job {job.pk} queued; its progress shows here."
                )
                return redirect("admin:classification_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Train a new model version",
            "form": form,
            "opts": self.model._meta,
            "data_root": settings.VITRINE_TRAINING_DATA_ROOT,
        }
        return TemplateResponse(
            request, "admin/classification/modelversion/train.html", context
        )


class TrainingForm(forms.Form):
    source = forms.ChoiceField(
        choices=[(s, s.replace("_", "-")) for s in SOURCES],
        initial="catalog",
        help_text="catalog: reviewed images and merchant-set categories; folder: "
        "one sub-folder per category; csv: a folder of images and a CSV file; "
        "fashion-mnist: the four IDX files.",
    )
    data = forms.CharField(
        required=False, help_text="A folder inside the training data folder."
    )
    val_data = forms.CharField(
        required=False, help_text="Folder source only: a validation folder."
    )
    labels = forms.CharField(required=False, help_text="CSV source: the CSV file.")
    image_column = forms.CharField(required=False)
    label_column = forms.CharField(required=False)
    name = forms.CharField(required=False, max_length=120)
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], initial="head")
    seed = forms.IntegerField(min_value=0, initial=0)
    epochs = forms.IntegerField(min_value=1, required=False)
    target_precision = forms.FloatField(min_value=0.5, max_value=0.999, initial=0.97)
    class_balanced = forms.BooleanField(
        required=False,
        help_text="Weigh each category by the inverse of its share of the "
        "training images: rare categories are found more often, at some cost "
        "in overall accuracy.",
    )
    create_categories = forms.BooleanField(
        required=False, help_text="Create categories for unknown labels."
    )
    activate = forms.BooleanField(required=False, help_text="Activate when done.")

    def params(self) -> dict:
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if value not in (None, "")
        }


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
        css = {"all": ["classification/admin.css"]}

    def has_add_permission(self, request):
        return False

    @admin.display(description="Progress", ordering="progress")
    def progress_bar(self, obj):
        return format_html(
            '<progress class="vitrine-progress" max="1" value="{}"></progress> {}',
            obj.progress,
            f"{obj.progress * 100:.0f} %",
        )
