"""Writes for products and the category taxonomy."""

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Merchant
from catalog.models import (
    Category,
    CategorySource,
    Product,
    ProductImage,
    ThresholdChange,
)
from catalog.services.images import files_release
from config.errors import Conflict, InvalidInput


class ProductError(Conflict):
    """A product could not be written as asked: its SKU is taken."""

    field = "sku"


@contextmanager
def _unique(conflict: Exception) -> Iterator[None]:
    """Run the block in a savepoint; raise ``conflict`` if it breaks a unique
    constraint (the savepoint keeps an outer transaction usable)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise conflict from error


def product_create(
    *,
    merchant: Merchant,
    sku: str,
    name: str,
    description: str = "",
    price: Decimal | None = None,
    category: Category | None = None,
) -> Product:
    """Create a product; a category given here is the merchant's own choice."""
    product = Product(
        merchant=merchant,
        sku=sku.strip(),
        name=name.strip(),
        description=description,
        price=price,
        category=category,
        category_source=CategorySource.MERCHANT if category else "",
    )
    with _unique(ProductError(f"A product with SKU {product.sku!r} already exists.")):
        product.save()
    return product


def product_update(*, product: Product, **fields) -> tuple[Product, bool]:
    """Update the given fields; changing the category makes it the merchant's.

    Return the product and whether its category changed (compared with what is
    stored, which classification's intake then reassesses).
    """
    allowed = {"sku", "name", "description", "price", "category"}
    unknown = set(fields) - allowed
    if unknown:
        raise ProductError(f"Unknown product fields: {', '.join(sorted(unknown))}")
    # Compare with what is stored: a bound ModelForm has already set the field.
    stored_category_id = (
        Product.objects.filter(pk=product.pk)
        .values_list("category_id", flat=True)
        .get()
    )
    new_category = fields.get("category", product.category)
    category_changed = (
        "category" in fields and getattr(new_category, "pk", None) != stored_category_id
    )
    if category_changed:
        product.category_source = CategorySource.MERCHANT if fields["category"] else ""
    for field, value in fields.items():
        setattr(product, field, value.strip() if field in ("sku", "name") else value)
    with _unique(ProductError(f"A product with SKU {product.sku!r} already exists.")):
        product.save()
    return product, category_changed


def product_set_category(
    *, product: Product, category: Category, source: CategorySource
) -> None:
    """Set the category and remember who chose it."""
    Product.objects.filter(pk=product.pk).update(
        category=category, category_source=source, updated_at=timezone.now()
    )
    product.category, product.category_source = category, source


def products_set_categories(
    *, categories: dict[int, int], source: CategorySource
) -> None:
    """Set many products' categories (product id -> category id) in one query."""
    now = timezone.now()
    Product.objects.bulk_update(
        [
            Product(
                pk=product_id,
                category_id=category_id,
                category_source=source,
                updated_at=now,
            )
            for product_id, category_id in categories.items()
        ],
        ["category", "category_source", "updated_at"],
    )


def product_delete(*, product: Product) -> None:
    """Delete a product with its images, and stored files no one else uses."""
    products_delete(products=Product.objects.filter(pk=product.pk))


def products_delete(*, products) -> int:
    """Delete the products (a queryset) with their images, and the stored files
    no other product uses; return how many products were deleted."""
    stored = list(
        ProductImage.objects.filter(product__in=products).values_list(
            "merchant_id", "sha256", "file", "thumbnail"
        )
    )
    count = products.count()
    products.delete()
    transaction.on_commit(lambda: files_release(stored))
    return count


# --- Categories (staff) -------------------------------------------------------


class CategoryError(InvalidInput):
    """A category could not be written as asked."""


class CategoryConflict(Conflict, CategoryError):
    """The write conflicts with other categories (a slug in use, children)."""


def category_create(
    *,
    name: str,
    slug: str = "",
    parent: Category | None = None,
    description: str = "",
    auto_accept_threshold: float | None = None,
) -> Category:
    """Add a node to the taxonomy; the slug defaults to the slugified name."""
    from django.utils.text import slugify

    category = Category(
        name=name.strip(),
        slug=(slug or slugify(name)).strip(),
        parent=parent,
        description=description,
        auto_accept_threshold=settings.VITRINE_DEFAULT_THRESHOLD
        if auto_accept_threshold is None
        else auto_accept_threshold,
    )
    if not category.slug:
        raise CategoryError("The category needs a name or slug with letters in it.")
    with _unique(
        CategoryConflict(f"A category with slug {category.slug!r} already exists.")
    ):
        category.save()
    return category


@transaction.atomic
def category_thresholds_set(
    *, thresholds: dict[Category, float], user=None, reason: str
) -> list[ThresholdChange]:
    """Set auto-accept thresholds and record each change (who, when, old, new,
    why). A threshold already at its value is left alone and not recorded."""
    changes = []
    for category, value in thresholds.items():
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise CategoryError(
                f"A threshold is between 0 and 1; {value} for {category.slug}."
            )
        old = category.auto_accept_threshold
        if old == value:
            continue
        category.auto_accept_threshold = value
        changes.append(
            ThresholdChange(
                category=category,
                old_threshold=old,
                new_threshold=value,
                changed_by=user if user and user.is_authenticated else None,
                reason=reason[:500],
            )
        )
    Category.objects.bulk_update(
        [change.category for change in changes], ["auto_accept_threshold"]
    )
    return ThresholdChange.objects.bulk_create(changes)


def category_update(*, category: Category, user=None, **fields) -> Category:
    """Update the given fields; a parent may not be the category or its descendant.

    A new auto-accept threshold is recorded as a ThresholdChange by ``user``.
    """
    allowed = {"name", "slug", "parent", "description", "auto_accept_threshold"}
    unknown = set(fields) - allowed
    if unknown:
        raise CategoryError(f"Unknown category fields: {', '.join(sorted(unknown))}")
    parent = fields.get("parent")
    seen = set()
    while parent is not None and parent.pk not in seen:
        if parent.pk == category.pk:
            raise CategoryError("A category cannot be its own ancestor.")
        seen.add(parent.pk)
        parent = parent.parent
    if "slug" in fields and not fields["slug"].strip():
        from django.utils.text import slugify

        fields["slug"] = slugify(fields.get("name", category.name))
        if not fields["slug"]:
            raise CategoryError("The category needs a slug with letters in it.")
    threshold = fields.pop("auto_accept_threshold", None)
    for field, value in fields.items():
        setattr(category, field, value.strip() if field in ("name", "slug") else value)
    with _unique(
        CategoryConflict(f"A category with slug {category.slug!r} already exists.")
    ):
        category.save()
    if threshold is not None:
        category_thresholds_set(
            thresholds={category: threshold}, user=user, reason="edited by hand"
        )
    return category


def category_delete(*, category: Category) -> None:
    """Delete a category with no children; its products become uncategorised."""
    if category.children.exists():
        raise CategoryConflict("The category has sub-categories; move or delete them.")
    category.delete()
