"""The admin's threshold proposal: the forecast first, the change on confirm."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from classification.evidence import threshold_proposals
from classification.services.thresholds import thresholds_apply_proposed
from config.errors import VitrineError


class ThresholdProposalForm(forms.Form):
    target_precision = forms.FloatField(
        min_value=0.5,
        max_value=0.999,
        initial=0.97,
        help_text="The precision auto-accepted predictions should reach.",
    )
    reason = forms.CharField(
        required=False, max_length=400, help_text="Why, for the record of changes."
    )


def thresholds_view(model_admin, request):
    """GET: the proposal and its forecast for a target; POST with ``apply``:
    set the proposed thresholds (categories with enough evidence only)."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    form = ThresholdProposalForm(data or None)
    proposal = None
    if form.is_valid():
        target = form.cleaned_data["target_precision"]
        try:
            if request.method == "POST" and "apply" in request.POST:
                changes = thresholds_apply_proposed(
                    target_precision=target,
                    user=request.user,
                    reason=form.cleaned_data["reason"],
                )
                model_admin.message_user(
                    request,
                    f"{len(changes)} auto-accept thresholds changed; each change "
                    "is recorded.",
                    messages.SUCCESS,
                )
                return redirect("admin:catalog_thresholdchange_changelist")
            proposal = threshold_proposals(target_precision=target)
        except VitrineError as error:
            form.add_error(None, error.message)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Auto-accept thresholds from evidence",
        "form": form,
        "proposal": proposal,
        "applicable": proposal
        and sum(row["enough_evidence"] for row in proposal["categories"]),
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(
        request, "admin/classification/modelversion/thresholds.html", context
    )
