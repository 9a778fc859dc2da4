"""Review-queue data for tests: prediction rows written directly, no CNN run."""

import itertools
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from catalog.models import Category, CategorySource, ImageStatus, ProductImage
from classification.models import ModelVersion, Prediction, ReviewReason
from tests.catalog.factories import ProductFactory
from tests.images import noise_png

_numbers = itertools.count(1)


def category(slug: str) -> Category:
    """A category of the default taxonomy (loaded by a data migration)."""
    return Category.objects.get(slug=slug)


def model_version(name: str | None = None) -> ModelVersion:
    name = name or f"test-version-{next(_numbers)}"
    return ModelVersion.objects.create(
        name=name,
        architecture="efficientnet_lite0",
        classes=list(Category.objects.values_list("slug", flat=True)),
        artifact=f"models/{name}.pt",
        checksum="0" * 64,
    )


def image(*, product=None, merchant=None, with_file: bool = False, **fields):
    """An image row; with ``with_file`` its file and thumbnail exist in storage."""
    if product is None:
        product = ProductFactory(**({"merchant": merchant} if merchant else {}))
    n = next(_numbers)
    sha256 = f"{n:064x}"
    row = ProductImage(
        product=product,
        merchant_id=product.merchant_id,
        file=f"images/{sha256[:2]}/{sha256}.png",
        thumbnail=f"thumbnails/{sha256[:2]}/{sha256}.png",
        sha256=sha256,
        width=96,
        height=96,
        format="PNG",
        byte_size=1000,
        **{"status": ImageStatus.NEEDS_REVIEW, **fields},
    )
    if with_file:
        data = noise_png(n)
        default_storage.save(row.file.name, ContentFile(data))
        default_storage.save(row.thumbnail.name, ContentFile(data))
    row.save()
    return row


def prediction(
    *,
    top: list[tuple[str, float]] | None = (("apparel", 0.5), ("footwear", 0.3)),
    status: str = Prediction.Status.NEEDS_REVIEW,
    version: ModelVersion | None = None,
    image_row: ProductImage | None = None,
    product=None,
    merchant=None,
    age: timedelta | None = None,
    is_current: bool = True,
    embedding: bytes | None = None,
    with_file: bool = False,
    reason: str | None = None,
) -> Prediction:
    """A prediction as the classifier would have stored it.

    ``top`` is the top-k as (slug, probability), best first; None makes a failed
    prediction (no category, no margin). ``age`` back-dates it. ``reason`` is
    why it waits (by default: below the threshold when it waits at all).
    """
    if image_row is None:
        image_row = image(product=product, merchant=merchant, with_file=with_file)
    version = version or ModelVersion.objects.order_by("id").first() or model_version()
    if top is None:
        row = Prediction.objects.create(
            image=image_row,
            model_version=version,
            status=Prediction.Status.FAILED,
            review_reason=ReviewReason.FAILED,
            error="The stored file could not be decoded.",
            is_current=is_current,
            top_k=[],
        )
    else:
        top = list(top)
        second = top[1][1] if len(top) > 1 else 0.0
        row = Prediction.objects.create(
            image=image_row,
            model_version=version,
            category=Category.objects.filter(slug=top[0][0]).first(),
            confidence=top[0][1],
            margin=round(top[0][1] - second, 6),
            top_k=[{"category": slug, "probability": p} for slug, p in top],
            status=status,
            review_reason=reason
            if reason is not None
            else ReviewReason.LOW_CONFIDENCE
            if status == Prediction.Status.NEEDS_REVIEW
            else "",
            is_current=is_current,
            embedding=embedding,
        )
    if age is not None:
        Prediction.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)
        row.refresh_from_db()
    return row


def with_merchant_category(product, slug: str):
    """Give ``product`` a category the merchant chose."""
    product.category = category(slug)
    product.category_source = CategorySource.MERCHANT
    product.save(update_fields=["category", "category_source"])
    return product


TOP5 = [
    ("apparel", 0.41),
    ("footwear", 0.33),
    ("bags-luggage", 0.12),
    ("eyewear", 0.08),
    ("watches-jewelry", 0.06),
]
