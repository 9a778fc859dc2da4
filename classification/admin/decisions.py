"""The reviewer's own decisions in the admin: undo (from a decision's message,
the work page or the history), the "my decisions" history, and the page where a
bulk action shows what it will change before it is confirmed.

A mixin of the review queue's admin (classification.admin.queue), which stays
the declaration of the queue's columns, filters and actions.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.roles import Capability, user_can
from catalog.selectors import category_labels
from classification.models import Review
from classification.selectors import review_history
from classification.services.reviews import (
    DecisionNotFound,
    ReviewConflict,
    ReviewError,
    predictions_review_bulk,
    predictions_review_bulk_preview,
    reviews_undo,
)

HISTORY_PAGE_SIZE = 50


class DecisionsAdminMixin:
    """Undo, history and bulk confirmation for ReviewItemAdmin."""

    def decision_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "decisions/",
                self.admin_site.admin_view(self.decisions_view),
                name="{}_{}_decisions".format(*info),
            ),
            path(
                "decisions/<int:review_id>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="{}_{}_undo".format(*info),
            ),
            path(
                "decisions/batch/<uuid:batch>/undo/",
                self.admin_site.admin_view(self.undo_batch_view),
                name="{}_{}_undo_batch".format(*info),
            ),
        ]

    def _admin_url(self, name: str, *args) -> str:
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args
        )

    # --- undo

    def undo_form_html(
        self, request, review: Review, *, back: str, label="Undo", shortcut=""
    ):
        """A small form that undoes ``review`` (or its whole batch, for bulk);
        its button answers the key ``shortcut`` on the work page."""
        url = (
            self._admin_url("undo_batch", review.batch)
            if getattr(review, "in_bulk", False)
            else self._admin_url("undo", review.pk)
        )
        return format_html(
            '<form method="post" action="{}" class="rq-undo">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<button type="submit" class="rq-undo-button"{}>{}</button></form>',
            url,
            get_token(request),
            back,
            format_html(' data-shortcut="{}" id="rq-undo-last"', shortcut)
            if shortcut
            else "",
            label,
        )

    def undo_view(self, request, review_id: int):
        return self._undo(request, review_id=review_id)

    def undo_batch_view(self, request, batch):
        return self._undo(request, batch=batch)

    def _undo(self, request, **which):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        back = self._safe_next(request, self._admin_url("decisions"))
        try:
            result = reviews_undo(
                user=request.user,
                others_too=user_can(request.user, Capability.REVIEW_UNDO_ANY),
                **which,
            )
        except (DecisionNotFound, ReviewError) as error:
            self.message_user(request, error.message, messages.ERROR)
        except ReviewConflict as error:
            self.message_user(request, error.message, messages.WARNING)
        else:
            names = sorted({r.prediction.image.product.name for r in result.undone})
            self.message_user(
                request,
                f"Undone: {len(result.undone)} decision"
                f"{pluralize(len(result.undone))} ({', '.join(names)}); "
                "everything is as it was before.",
                messages.SUCCESS,
            )
            if result.conflicts:
                self.message_user(
                    request,
                    f"{len(result.conflicts)} decision"
                    f"{pluralize(len(result.conflicts))} left as they were: "
                    "their product changed since.",
                    messages.WARNING,
                )
        return redirect(back)

    def _safe_next(self, request, default: str) -> str:
        back = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return back
        return default

    # --- history

    def decisions_view(self, request):
        """The signed-in reviewer's decisions, newest first, filterable."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        decision = request.GET.get("decision", "")
        if decision not in Review.Decision.values:
            decision = ""
        state = request.GET.get("state", "")
        undone = {"undone": True, "standing": False}.get(state)
        search = request.GET.get("q", "").strip()[:100]
        reviews = review_history(
            reviewer=request.user, decision=decision, undone=undone, search=search
        )
        page = Paginator(reviews, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        names = {pk: name for pk, (_, name) in category_labels().items()}
        here = request.get_full_path()
        rows = []
        for review in page:
            before, after = review.before or {}, review.after or {}
            rows.append(
                {
                    "review": review,
                    "product": review.prediction.image.product,
                    "category_before": names.get(before.get("category")),
                    "category_after": names.get(after.get("category")),
                    "category_changed": before.get("category") != after.get("category"),
                    "undo": self.undo_form_html(request, review, back=here)
                    if review.undone_at is None and self.has_change_permission(request)
                    else "",
                }
            )
        query = {k: v for k, v in request.GET.items() if k != "p" and v}
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "My decisions",
            "rows": rows,
            "page": page,
            "decisions": Review.Decision.choices,
            "decision": decision,
            "state": state,
            "q": search,
            "page_query": urlencode(query),
            "list_url": self._admin_url("changelist"),
            "work_url": self._admin_url("work"),
            "is_nav_sidebar_enabled": False,
        }
        return TemplateResponse(
            request, "admin/classification/reviewitem/decisions.html", context
        )

    # --- bulk actions: shown, then confirmed

    def bulk_decide(self, request, queryset, *, decision: str, done: str, **options):
        """Show what the bulk decision will change; make it once confirmed."""
        ids = self._selected_ids(request, queryset)
        arguments = {
            "prediction_ids": ids,
            "reviewer": request.user,
            "decision": decision,
            **options,
        }
        if request.POST.get("confirmed") != "yes":
            preview = predictions_review_bulk_preview(**arguments)
            return TemplateResponse(
                request,
                "admin/classification/reviewitem/confirm_bulk.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": "Confirm the decision",
                    "done": done,
                    "preview": preview,
                    "ids": ids,
                    "action": request.POST.get("action", ""),
                    "category": request.POST.get("category", ""),
                    "unusable_reason": request.POST.get("unusable_reason", ""),
                    "set_product_category": options.get("set_product_category"),
                    "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "list_url": self._admin_url("changelist"),
                },
            )
        result = predictions_review_bulk(**arguments)
        undo = ""
        if result.reviews:
            first = result.reviews[0]
            first.in_bulk = True
            undo = self.undo_form_html(
                request,
                first,
                back=self._admin_url("changelist"),
                label=f"Undo these {result.reviewed}",
            )
        self.message_user(
            request,
            format_html(
                "{} {} item{}. {}",
                done,
                result.reviewed,
                pluralize(result.reviewed),
                undo,
            ),
            messages.SUCCESS,
        )
        if result.conflicts:
            self.message_user(
                request,
                f"{len(result.conflicts)} item{pluralize(len(result.conflicts))} "
                "left as they were: decided by someone else, classified again, "
                "or without a category to accept.",
                messages.WARNING,
            )
        return None
