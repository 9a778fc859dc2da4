"""Reads for the catalog. Every merchant-facing read is scoped by merchant here."""

from datetime import date, datetime, time, timedelta

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Merchant
from catalog.models import Category, ImageStatus, Product, ProductImage, ThresholdChange


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("name")


def category_names() -> dict[str, str]:
    """Map each category slug to its display name."""
    return dict(Category.objects.values_list("slug", "name"))


def category_labels() -> dict[int, tuple[str, str]]:
    """Map each category id to its slug and name (the taxonomy is small)."""
    return {
        pk: (slug, name)
        for pk, slug, name in Category.objects.values_list("pk", "slug", "name")
    }


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


# A product's photos as the merchant placed them, and the cover before them
# where lists show one photo.
PHOTO_ORDER = ("position", "id")
COVER_FIRST = ("-is_cover", *PHOTO_ORDER)


def product_images(*, product: Product) -> QuerySet[ProductImage]:
    """The product's photos in the merchant's order."""
    return product.images.order_by(*PHOTO_ORDER)


def product_image_get(*, product: Product, pk: int) -> ProductImage:
    """Return the product's photo, or raise Http404."""
    return get_object_or_404(product.images.select_related("product"), pk=pk)


def image_share_counts(*, images: list[ProductImage]) -> dict[int, int]:
    """Map each image id to how many other products use the same stored bytes."""
    if not images:
        return {}
    merchant_id = images[0].merchant_id
    rows = (
        ProductImage.objects.filter(
            merchant_id=merchant_id, sha256__in={i.sha256 for i in images}
        )
        .order_by()
        .values("sha256")
        .annotate(n=Count("id"))
    )
    per_bytes = {row["sha256"]: row["n"] for row in rows}
    return {image.pk: per_bytes.get(image.sha256, 1) - 1 for image in images}


def share_offers(*, product: Product, image_ids) -> list[ProductImage]:
    """The merchant's photos named in ``image_ids`` that are on other products
    and whose bytes this product lacks: what its page offers to use here too."""
    ids = [int(pk) for pk in image_ids if str(pk).isdigit()][:50]
    if not ids:
        return []
    own = product.images.values("sha256")
    return list(
        ProductImage.objects.select_related("product")
        .filter(pk__in=ids, merchant_id=product.merchant_id)
        .exclude(product=product)
        .exclude(sha256__in=own)
        .order_by("pk")
    )


# The catalog table's sortable columns: the name a page uses -> the ordering.
PRODUCT_TABLE_SORTS = {
    "name": "name",
    "sku": "sku",
    "price": "price",
    "category": "category__name",
    "source": "category_source",
    "photos": "image_count",
    "review": "review_count",
    "created": "created_at",
}
UNCATEGORISED = "none"


def product_table(
    *,
    merchant: Merchant,
    search: str = "",
    category: Category | str | None = None,
    status: str = "",
    source: str | None = None,
    sort: str = "-created",
    ids=None,
) -> QuerySet[Product]:
    """The merchant's products for the catalog table, filtered and sorted
    (only those of ``ids`` when given).

    ``category`` is a category or UNCATEGORISED; ``source`` a CategorySource
    value, or "" for products without a category source; ``sort`` a key of
    PRODUCT_TABLE_SORTS, "-" first for descending (nulls last either way). Each
    product carries its photo counts per status and ``cover_id`` (its cover
    photo, else its first), so a page is one query and its count.
    """
    products = Product.objects.filter(merchant=merchant).select_related("category")
    if ids is not None:
        products = products.filter(pk__in=list(ids))
    if "\x00" in search:
        return products.none()
    if search:
        products = products.filter(Q(name__icontains=search) | Q(sku__icontains=search))
    if category == UNCATEGORISED:
        products = products.filter(category__isnull=True)
    elif category is not None:
        products = products.filter(category=category)
    if source is not None:
        products = products.filter(category_source=source)
    if status:
        products = products.filter(
            Exists(ProductImage.objects.filter(product=OuterRef("pk"), status=status))
        )
    counts = {
        "image_count": Count("images", distinct=True),
        "classified_count": Count(
            "images", filter=Q(images__status=ImageStatus.CLASSIFIED), distinct=True
        ),
        "review_count": Count(
            "images", filter=Q(images__status=ImageStatus.NEEDS_REVIEW), distinct=True
        ),
        "reviewed_count": Count(
            "images", filter=Q(images__status=ImageStatus.REVIEWED), distinct=True
        ),
        "failed_count": Count(
            "images", filter=Q(images__status=ImageStatus.FAILED), distinct=True
        ),
        "waiting_count": Count(
            "images",
            filter=Q(images__status__in=[ImageStatus.PENDING, ImageStatus.PROCESSING]),
            distinct=True,
        ),
    }
    cover = ProductImage.objects.filter(product=OuterRef("pk")).order_by(*COVER_FIRST)
    products = products.annotate(**counts, cover_id=Subquery(cover.values("pk")[:1]))
    descending = sort.startswith("-")
    field = PRODUCT_TABLE_SORTS.get(sort.lstrip("-"), "created_at")
    expression = (
        F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    )
    return products.order_by(expression, "-id" if descending else "id")


def products_of(*, merchant: Merchant | None, ids) -> QuerySet[Product]:
    """The merchant's products among ``ids`` (others' ids match nothing; every
    merchant's when None, for platform admins)."""
    products = Product.objects.filter(pk__in=list(ids)).select_related("category")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    return products


def product_get(*, merchant: Merchant | None, pk: int) -> Product:
    """Return the product, or raise Http404 if it is not the merchant's."""
    products = Product.objects.select_related("category", "merchant")
    if merchant is not None:
        products = products.filter(merchant=merchant)
    return get_object_or_404(products, pk=pk)


def product_for_sku(*, merchant: Merchant, sku: str) -> Product | None:
    """The merchant's product with this SKU, if there is one."""
    return (
        Product.objects.select_related("category")
        .filter(merchant=merchant, sku=sku)
        .first()
    )


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
        Prefetch("images", queryset=ProductImage.objects.order_by(*COVER_FIRST))
    ).order_by("-created_at", "-id")


def image_queryset(
    *,
    merchant: Merchant | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
) -> QuerySet[ProductImage]:
    """Images of ``merchant`` (all when None) uploaded from ``start_at`` to just
    before ``end_at``, unordered and with nothing joined: a base for aggregates."""
    images = ProductImage.objects.all()
    if merchant is not None:
        images = images.filter(merchant=merchant)
    bounds = {"created_at__gte": start_at, "created_at__lt": end_at}
    return images.filter(**{key: at for key, at in bounds.items() if at is not None})


# How an image's status reads to someone who uploaded it: key, label, statuses.
IMAGE_OUTCOMES = [
    ("sorted", "Sorted automatically", [ImageStatus.CLASSIFIED]),
    ("review", "Sent to review", [ImageStatus.NEEDS_REVIEW, ImageStatus.REVIEWED]),
    ("failed", "Failed", [ImageStatus.FAILED]),
    ("in_progress", "In progress", [ImageStatus.PENDING, ImageStatus.PROCESSING]),
]


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def merchant_summary(
    *, merchant: Merchant, days: int = 30, today: date | None = None
) -> dict:
    """A merchant's own figures for their product list, in one query.

    Uploads of the ``days`` local days that end ``today`` (default: today) by day
    and outcome, how many of them were sorted automatically, and what waits for
    a reviewer or failed right now.
    """
    today = today or timezone.localdate()
    calendar = [today - timedelta(days=days - 1 - i) for i in range(days)]
    start_at, end_at = _midnight(calendar[0]), _midnight(today + timedelta(days=1))
    rows = (
        ProductImage.objects.filter(merchant=merchant)
        # The period's photos, and the older ones still waiting or failed.
        .filter(
            Q(created_at__gte=start_at)
            | Q(status__in=[ImageStatus.NEEDS_REVIEW, ImageStatus.FAILED])
        )
        .annotate(
            day=Case(
                When(
                    created_at__gte=start_at,
                    created_at__lt=end_at,
                    then=TruncDate("created_at"),
                ),
                default=Value(None),
                output_field=DateField(),
            )
        )
        .values("day", "status")
        .annotate(n=Count("*"))
        .order_by()
    )
    outcome_of = {s: key for key, _, statuses in IMAGE_OUTCOMES for s in statuses}
    series = {key: dict.fromkeys(calendar, 0) for key, _, _ in IMAGE_OUTCOMES}
    waiting = failed = 0
    for row in rows:
        if row["status"] == ImageStatus.NEEDS_REVIEW:
            waiting += row["n"]
        elif row["status"] == ImageStatus.FAILED:
            failed += row["n"]
        if row["day"] is not None:
            series[outcome_of[row["status"]]][row["day"]] += row["n"]
    totals = {key: sum(per_day.values()) for key, per_day in series.items()}
    settled = totals["sorted"] + totals["review"]
    return {
        "period": {
            "start": calendar[0].isoformat(),
            "end": today.isoformat(),
            "days": days,
        },
        "uploaded": sum(totals.values()),
        "sorted": totals["sorted"],
        "auto_rate": round(totals["sorted"] / settled, 4) if settled else None,
        "waiting": waiting,
        "failed": failed,
        "chart": {
            "labels": [d.isoformat() for d in calendar],
            "datasets": [
                {"key": key, "label": label, "data": list(series[key].values())}
                for key, label, _ in IMAGE_OUTCOMES
            ],
            "empty": not any(totals.values()),
        },
    }


def threshold_change_list() -> QuerySet[ThresholdChange]:
    """Every recorded auto-accept threshold change, newest first."""
    return ThresholdChange.objects.select_related("category", "changed_by")
