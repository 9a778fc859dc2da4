"""Reads for the catalog. Every merchant-facing read is scoped by merchant here."""

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Merchant
from catalog.models import Category, ImageStatus, Product, ProductImage


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("name")


def category_names() -> dict[str, str]:
    """Map each category slug to its display name."""
    return dict(Category.objects.values_list("slug", "name"))


def product_list(
    *,
    merchant: Merchant | None,
    search: str = "",
    category: Category | None = None,
    status: str = "",
) -> QuerySet[Product]:
    """Products of ``merchant`` (all merchants when None, for staff).

    Each product carries ``image_count``, ``review_count`` and its images (newest
    first) prefetched, so a list page makes a fixed number of queries.
    """
    products = Product.objects.select_related("category", "merchant")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if category is not None:
        products = products.filter(category=category)
    if status:
        products = products.filter(images__status=status).distinct()
    return (
        products.annotate(
            image_count=Count("images", distinct=True),
            review_count=Count(
                "images",
                filter=Q(images__status=ImageStatus.NEEDS_REVIEW),
                distinct=True,
            ),
        )
        .prefetch_related(
            Prefetch(
                "images", queryset=ProductImage.objects.order_by("-created_at", "-id")
            )
        )
        .order_by("-created_at", "-id")
    )


def product_get(*, merchant: Merchant | None, pk: int) -> Product:
    """Return the product, or raise Http404 if it is not the merchant's."""
    products = Product.objects.select_related("category", "merchant")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    return get_object_or_404(products, pk=pk)


def image_get(*, merchant: Merchant | None, pk: int) -> ProductImage:
    """Return the image, or raise Http404 if it is not the merchant's."""
    images = ProductImage.objects.select_related("product")
    if merchant is not None:
        images = images.filter(merchant=merchant)
    return get_object_or_404(images, pk=pk)
