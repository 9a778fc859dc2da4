"""The admin's activation page: the comparison with the active version first,
then activate on confirm."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from classification.rollout import activation_comparison
from classification.selectors import model_version_get
from classification.services.versions import model_version_activate_confirmed


def activate_view(model_admin, request, object_id):
    """GET: the comparison; POST: activate (confirmed by the person's click)."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    version = model_version_get(pk=object_id)
    if request.method == "POST":
        version = model_version_activate_confirmed(
            version=version, confirm=True, user=request.user
        )
        model_admin.message_user(
            request,
            f"{version.name} is active; workers switch on their next task.",
            messages.SUCCESS,
        )
        return redirect("admin:classification_modelversion_change", version.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Activate {version.name}?",
        "version": version,
        "comparison": activation_comparison(version=version),
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(
        request, "admin/classification/modelversion/activate.html", context
    )
