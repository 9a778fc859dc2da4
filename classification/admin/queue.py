"""The review queue: a list with filters and bulk actions, and a one-item page
to work it (its filters live in ``queue_filters``, its HTML in ``presenters``,
undo, history and bulk confirmation in ``decisions``).

Over 400 lines: the list's columns and actions and the work page's views share
the queue's URLs and context; the parts that stand alone are already apart.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince

from catalog.admin import thumbnail_html
from catalog.selectors import category_list, category_names
from classification.admin.decisions import DecisionsAdminMixin
from classification.admin.presenters import (
    merchant_category_html,
    near_duplicates_html,
    product_html,
    top_five_html,
)
from classification.admin.queue_filters import (
    AgeQueueFilter,
    CategoryQueueFilter,
    MerchantQueueFilter,
    ModelVersionQueueFilter,
    ReasonQueueFilter,
    filter_params,
    is_id,
    queue_filters,
)
from classification.models import Prediction, Review, ReviewItem
from classification.selectors import (
    REVIEW_QUEUE_ORDER,
    product_other_photos,
    review_history,
    review_queue,
    review_reason_text,
)
from classification.services.reviews import (
    ReviewConflict,
    ReviewError,
    prediction_review,
)


class ReviewActionForm(helpers.ActionForm):
    category = forms.ModelChoiceField(
        queryset=category_list(),
        required=False,
        empty_label="Label for “Set category”…",
        label="",
        widget=forms.Select(attrs={"aria-label": "Category for “Set category”"}),
    )
    unusable_reason = forms.ChoiceField(
        choices=[("", "Reason for “Unusable”…"), *Review.UnusableReason.choices],
        required=False,
        label="",
        widget=forms.Select(attrs={"aria-label": "Reason for “Unusable”"}),
    )
    set_product_category = forms.BooleanField(
        required=False, label="and make it the product's category"
    )


class ReviewQueueChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # One query for the names of every top-5 category on the page.
        names = category_names()
        for item in self.result_list:
            item.choices = _choices(item, names)


def _choices(item: Prediction, names: dict[str, str]) -> list[dict]:
    return [
        {
            "key": str(number),
            "slug": entry["category"],
            "name": names.get(entry["category"], entry["category"]),
            "probability": entry["probability"],
        }
        for number, entry in enumerate(item.top_k[:5], start=1)
    ]


@admin.register(ReviewItem)
class ReviewItemAdmin(DecisionsAdminMixin, admin.ModelAdmin):
    """The review queue: a list with bulk actions, and a one-item page to work it.

    Reviewers (staff in the Reviewers group) hold only this model's view and
    change rights, so this is all they see of the admin.
    """

    list_display = [
        "photo",
        "product",
        "top_five",
        "margin_shown",
        "reason_shown",
        "merchant_category",
        "model_version",
        "near_duplicates",
        "waiting",
    ]
    list_display_links = ["photo", "product"]
    search_fields = [
        "image__product__name",
        "image__product__sku",
        "image__merchant__name",
    ]
    search_help_text = "Product name, SKU or merchant."
    list_filter = [
        ReasonQueueFilter,
        MerchantQueueFilter,
        CategoryQueueFilter,
        ModelVersionQueueFilter,
        AgeQueueFilter,
    ]
    ordering = REVIEW_QUEUE_ORDER
    list_per_page = 50
    # The queue query is not cheap; counting it once per page is enough.
    show_full_result_count = False
    action_form = ReviewActionForm
    actions = ["accept_selected", "set_category_selected", "unusable_selected"]

    def get_queryset(self, request):
        return review_queue()

    def get_changelist(self, request, **kwargs):
        return ReviewQueueChangeList

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "work/",
                self.admin_site.admin_view(self.work_view),
                name="{}_{}_work".format(*info),
            ),
            path(
                "<path:object_id>/review/",
                self.admin_site.admin_view(self.review_view),
                name="{}_{}_review".format(*info),
            ),
            *self.decision_urls(),
            *super().get_urls(),
        ]

    # --- columns

    @admin.display(description="Photo")
    def photo(self, item):
        # The list's first column links to the item: the photo names it.
        return thumbnail_html(
            item.image, size=96, alt=f"Review the photo of {item.image.product.name}"
        )

    @admin.display(description="Product")
    def product(self, item):
        return product_html(item.image)

    @admin.display(description="Top 5")
    def top_five(self, item):
        return top_five_html(getattr(item, "choices", None), item.error)

    @admin.display(description="Margin", ordering="margin")
    def margin_shown(self, item):
        return "—" if item.margin is None else f"{item.margin:.2f}"

    @admin.display(description="Reason")
    def reason_shown(self, item):
        return _sentence(review_reason_text(item))

    @admin.display(description="Product's category")
    def merchant_category(self, item):
        return merchant_category_html(item.image.product)

    @admin.display(description="Same photo as")
    def near_duplicates(self, item):
        return near_duplicates_html(item.image)

    @admin.display(description="Waiting", ordering="created_at")
    def waiting(self, item):
        return timesince(item.created_at)

    # --- bulk actions: each shows what it will change and asks to confirm

    @admin.action(
        description="Accept the top category of the selected items",
        permissions=["change"],
    )
    def accept_selected(self, request, queryset):
        return self.bulk_decide(
            request,
            queryset,
            decision=Review.Decision.ACCEPTED,
            done="Accepted",
            set_product_category=_ticked(request),
        )

    @admin.action(
        description="Label the selected items with the chosen category",
        permissions=["change"],
    )
    def set_category_selected(self, request, queryset):
        chosen = request.POST.get("category", "")
        category = category_list().filter(pk=chosen).first() if is_id(chosen) else None
        if category is None:
            self.message_user(
                request,
                "Choose a category in the list next to the action first.",
                messages.ERROR,
            )
            return None
        return self.bulk_decide(
            request,
            queryset,
            decision=Review.Decision.CORRECTED,
            done=f"Set to “{category.name}”:",
            category=category,
            set_product_category=_ticked(request),
        )

    @admin.action(
        description="Mark the selected photos unusable", permissions=["change"]
    )
    def unusable_selected(self, request, queryset):
        reason = request.POST.get("unusable_reason", "")
        if reason not in Review.UnusableReason.values:
            self.message_user(
                request,
                "Choose why the photos are unusable next to the action first.",
                messages.ERROR,
            )
            return None
        return self.bulk_decide(
            request,
            queryset,
            decision=Review.Decision.UNUSABLE,
            done=f"Marked unusable ({Review.UnusableReason(reason).label.lower()}):",
            unusable_reason=reason,
        )

    def _selected_ids(self, request, queryset) -> list[int]:
        # The ids ticked, not only those still in the queue: one decided by
        # someone else meanwhile is then reported rather than silently dropped.
        if request.POST.get("select_across") == "1":
            return list(queryset.values_list("pk", flat=True))
        return [
            int(pk)
            for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            if is_id(pk)
        ]

    # --- pages

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "title": "Review queue: the most uncertain first",
            "work_url": self._work_url(filter_params(request.GET)),
            "decisions_url": self._admin_url("decisions"),
            "can_review": self.has_change_permission(request),
            # Reviewers see this one page of the admin; the table needs the width.
            "is_nav_sidebar_enabled": False,
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """One item of the queue, as on the "work the queue" page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not is_id(object_id):
            raise Http404("No review item has that id.")
        preserved = QueryDict(request.GET.get("_changelist_filters", ""))
        params = filter_params(preserved)
        item = self.get_queryset(request).filter(pk=object_id).first()
        if item is None:
            self.message_user(
                request,
                "That item has left the queue: it was decided or classified again.",
                messages.INFO,
            )
            return redirect(self._work_url(params))
        return self._render_item(
            request, item, params=params, position=None, next_item=None
        )

    def work_view(self, request):
        """The next item of the queue (filtered as the list was), to decide on."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        params = filter_params(request.GET)
        try:
            filters = queue_filters(params)
            position = max(int(request.GET.get("position") or 0), 0)
        except ValueError:
            self.message_user(request, "Unknown queue filter.", messages.ERROR)
            return redirect(self._work_url({}))
        queue = review_queue(**filters, skipped_by=request.user)
        waiting = queue.count()
        if position >= waiting:
            # Past the end (or a number no OFFSET takes): start over from the top.
            position = 0
        window = list(queue[position : position + 2])
        item = window[0] if window else None
        next_item = window[1] if len(window) > 1 else None
        return self._render_item(
            request,
            item,
            params=params,
            position=position,
            next_item=next_item,
            waiting=waiting,
        )

    def review_view(self, request, object_id):
        """Record one decision posted from the item page, then move on."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = self._work_url({})
        slug = request.POST.get("category", "").strip()
        category = category_list().filter(slug=slug).first() if slug else None
        if slug and category is None:
            self.message_user(request, f"Unknown category “{slug}”.", messages.ERROR)
            return redirect(back)
        try:
            review = prediction_review(
                prediction_id=int(object_id),
                reviewer=request.user,
                decision=request.POST.get("decision", ""),
                category=category,
                note=request.POST.get("note", "").strip(),
                unusable_reason=request.POST.get("unusable_reason", ""),
                set_product_category=_ticked(request),
            )
        except (ReviewError, ValueError) as error:  # or a malformed id
            self.message_user(request, str(error), messages.ERROR)
        except ReviewConflict as error:
            self.message_user(request, str(error), messages.WARNING)
        else:
            self.message_user(
                request,
                format_html(
                    "{} {}",
                    _review_message(review),
                    self.undo_form_html(request, review, back=back),
                ),
                messages.SUCCESS,
            )
        return redirect(back)

    def _work_url(self, params: dict, position: int = 0) -> str:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_work")
        query = {**params, **({"position": position} if position else {})}
        return f"{url}?{urlencode(query)}" if query else url

    def _render_item(self, request, item, *, params, position, next_item, waiting=None):
        categories = list(category_list())
        names = {c.slug: c.name for c in categories}
        here = self._work_url(params, position or 0)
        last = review_history(reviewer=request.user, undone=False).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Work the review queue",
            "item": item,
            "reason_label": _sentence(review_reason_text(item)) if item else "",
            "product": item.image.product if item else None,
            "choices": _choices(item, names) if item else [],
            "categories": categories,
            "duplicates": list(item.image.near_duplicates.all()) if item else [],
            "other_photos": product_other_photos(image=item.image) if item else [],
            "unusable_reasons": Review.UnusableReason.choices,
            "last_decision": last,
            "undo_last": self.undo_form_html(
                request,
                last,
                back=here,
                label="Undo your last decision",
                shortcut="u",
            )
            if last and self.has_change_permission(request)
            else "",
            "decisions_url": self._admin_url("decisions"),
            "waiting": waiting,
            "position": position,
            "can_review": self.has_change_permission(request),
            # Back here after a decision: the decided item has left, the next one
            # takes its place.
            "after_decision": here if position is not None else self._work_url(params),
            "next_url": self._work_url(params, (position or 0) + 1)
            if position is not None
            else self._work_url(params),
            "previous_url": self._work_url(params, position - 1) if position else None,
            "list_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
            )
            + (f"?{urlencode(params)}" if params else ""),
            "review_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_review",
                args=[item.pk],
            )
            if item
            else None,
            "next_image_url": reverse("catalog:image-file", args=[next_item.image_id])
            if next_item
            else None,
            "filtered": bool(params),
            "is_nav_sidebar_enabled": False,
        }
        return TemplateResponse(
            request, "admin/classification/reviewitem/work.html", context
        )


def _sentence(text: str) -> str:
    # Not str.capitalize(), which lowers the rest ("apparel").
    return text[:1].upper() + text[1:]


def _ticked(request) -> bool:
    return request.POST.get("set_product_category") in ("1", "on", "true")


def _review_message(review: Review) -> str:
    product = review.prediction.image.product
    if review.decision == Review.Decision.SKIPPED:
        return f"Skipped {product.name}; it stays in the queue for the others."
    if review.decision == Review.Decision.UNUSABLE:
        return (
            f"Marked a photo of {product.name} unusable "
            f"({review.get_unusable_reason_display().lower()})."
        )
    label = review.final_category.name
    now = product.category.name if product.category else "no category"
    if product.category_id != review.previous_category_id:
        return (
            f"{review.get_decision_display()}: the photo is “{label}”; "
            f"{product.name} is now in “{now}”."
        )
    return (
        f"{review.get_decision_display()}: the photo is “{label}”; "
        f"{product.name} stays in “{now}”."
    )
