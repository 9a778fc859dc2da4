"""The review queue's filters, by query parameter.

The list and the one-item page share them, so "Work the queue" carries the
list's filters along.
"""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from accounts.selectors import merchant_list
from catalog.selectors import category_list
from classification.models import ReviewReason
from classification.selectors import model_version_list, review_queue_filter
from config.fields import MAX_ID

QUEUE_AGES = {
    "1h": ("more than an hour", timedelta(hours=1)),
    "1d": ("more than a day", timedelta(days=1)),
    "7d": ("more than a week", timedelta(days=7)),
    "30d": ("more than 30 days", timedelta(days=30)),
}
QUEUE_PARAMS = ("merchant", "category", "model_version", "reason", "age")


def queue_filters(params) -> dict:
    """Turn the queue's query parameters into review_queue() filters.

    Raise ValueError for a value that is not one of them.
    """
    filters = {}
    for name in ("merchant", "category", "model_version"):
        value = params.get(name)
        if value:
            if not is_id(value):
                raise ValueError(f"unknown {name} {value!r}")
            filters[name] = int(value)
    reason = params.get("reason")
    if reason:
        if reason not in ReviewReason.values:
            raise ValueError(f"unknown reason {reason!r}")
        filters["reason"] = reason
    age = params.get("age")
    if age:
        if age not in QUEUE_AGES:
            raise ValueError(f"unknown age {age!r}")
        filters["older_than"] = QUEUE_AGES[age][1]
    return filters


def filter_params(query) -> dict:
    """The queue's filters among ``query``'s parameters."""
    return {name: query[name] for name in QUEUE_PARAMS if query.get(name)}


def is_id(value: str) -> bool:
    """Tell whether ``value`` is a row id: ASCII digits (``"²".isdigit()`` is
    true, but int() refuses it), within a 64-bit key."""
    return value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID


class _QueueFilter(admin.SimpleListFilter):
    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            filters = queue_filters({self.parameter_name: self.value()})
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        return review_queue_filter(queryset, **filters)


class MerchantQueueFilter(_QueueFilter):
    title = "merchant"
    parameter_name = "merchant"

    def lookups(self, request, model_admin):
        # Every merchant: finding those with something waiting takes a look-up
        # per queued photo (0.7 s for 55,000 of them).
        return merchant_list().values_list("pk", "name")


class CategoryQueueFilter(_QueueFilter):
    title = "predicted category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [(c.pk, c.name) for c in category_list()]


class ModelVersionQueueFilter(_QueueFilter):
    title = "model version"
    parameter_name = "model_version"

    def lookups(self, request, model_admin):
        return [(v.pk, v.name) for v in model_version_list()]


class ReasonQueueFilter(_QueueFilter):
    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return ReviewReason.choices


class AgeQueueFilter(_QueueFilter):
    title = "waiting"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in QUEUE_AGES.items()]
