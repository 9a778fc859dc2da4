"""Query filters for the catalog lists, applied on top of merchant-scoped selectors."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from catalog.models import Category, ImageStatus, Product, ProductImage
from config.filters import BooleanFilter, IdFilter, StrictFilterSet


class CategoryFilter(StrictFilterSet):
    parent = django_filters.CharFilter(
        field_name="parent__slug", help_text="Children of the category with this slug."
    )

    class Meta:
        model = Category
        fields = ["parent"]


class ProductFilter(StrictFilterSet):
    category = django_filters.CharFilter(
        field_name="category__slug", help_text="Category slug."
    )
    uncategorised = BooleanFilter(
        field_name="category", lookup_expr="isnull", help_text="No category yet."
    )
    status = django_filters.ChoiceFilter(
        choices=ImageStatus.choices,
        method="filter_status",
        help_text="Products with at least one image in this status.",
    )
    sku = django_filters.CharFilter(field_name="sku", help_text="Exact SKU.")
    search = django_filters.CharFilter(
        method="filter_search", help_text="Part of the name or SKU."
    )
    merchant = IdFilter(
        field_name="merchant_id", help_text="Staff: one merchant's products."
    )

    class Meta:
        model = Product
        fields = ["category", "uncategorised", "status", "sku", "search", "merchant"]

    def filter_status(self, queryset, name, value):
        # A subquery rather than a join: a join would repeat a product once per
        # image in that status.
        return queryset.filter(
            Exists(ProductImage.objects.filter(product=OuterRef("pk"), status=value))
        )

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))


class ImageFilter(StrictFilterSet):
    product = IdFilter(field_name="product_id", help_text="One product's images.")
    status = django_filters.ChoiceFilter(choices=ImageStatus.choices)

    class Meta:
        model = ProductImage
        fields = ["product", "status"]
