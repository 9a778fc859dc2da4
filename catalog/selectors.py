"""Reads for the catalog. Every merchant-facing read is scoped by merchant here."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
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
    products = products_with_images(merchant=merchant)
    if "\x00" in search:
        # No stored text holds a NUL (PostgreSQL refuses it): nothing matches,
        # and the database is not asked a query it rejects.
        return products.none()
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if category is not None:
        products = products.filter(category=category)
    if status:
        # A subquery, not a join: a join would narrow the image counts below.
        products = products.filter(
            Exists(ProductImage.objects.filter(product=OuterRef("pk"), status=status))
        )
    return products.annotate(
        image_count=Count("images", distinct=True),
        review_count=Count(
            "images",
            filter=Q(images__status=ImageStatus.NEEDS_REVIEW),
            distinct=True,
        ),
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


def category_get(*, pk: int) -> Category:
    return get_object_or_404(category_list(), pk=pk)


def catalog_counts(*, merchant: Merchant | None) -> dict:
    """Products per category slug (None: uncategorised) and images per status."""
    products = Product.objects.all()
    images = ProductImage.objects.all()
    if merchant is not None:
        products = products.filter(merchant=merchant)
        images = images.filter(merchant=merchant)
    rows = products.order_by().values("category__slug").annotate(count=Count("id"))
    per_category = {row["category__slug"]: row["count"] for row in rows}
    per_status = {status: 0 for status in ImageStatus.values}
    for row in images.order_by().values("status").annotate(count=Count("id")):
        per_status[row["status"]] = row["count"]
    return {
        "products": sum(per_category.values()),
        "products_per_category": per_category,
        "images": sum(per_status.values()),
        "images_per_status": per_status,
    }


def image_list(*, merchant: Merchant | None) -> QuerySet[ProductImage]:
    """Images of ``merchant`` (all merchants when None, for staff), newest first."""
    images = ProductImage.objects.select_related("product")
    if merchant is not None:
        images = images.filter(merchant=merchant)
    return images.order_by("-created_at", "-id")


def category_slugs(*, ids) -> dict[int, str]:
    """Map each category id to its slug."""
    ids = [pk for pk in ids if pk is not None]
    return dict(Category.objects.filter(pk__in=ids).values_list("pk", "slug"))


def images_by_id(*, ids) -> dict[int, ProductImage]:
    """Map each image id to the image, with its product."""
    return ProductImage.objects.select_related("product").in_bulk(list(ids))


def products_with_images(*, merchant: Merchant | None) -> QuerySet[Product]:
    """Products of ``merchant`` (all when None), newest first, images prefetched.

    Unlike product_list, no counts are annotated: a page then costs an index scan
    and one query for its images, instead of a GROUP BY over the merchant's whole
    catalog (which halved the API's throughput at 10,000 products). Count the
    prefetched images.
    """
    products = Product.objects.select_related("category", "merchant")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    return products.prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("-created_at", "-id"))
    ).order_by("-created_at", "-id")
