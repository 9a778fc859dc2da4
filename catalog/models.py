"""Categories, products and their images."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Category(models.Model):
    """A node of the platform-wide product taxonomy."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    auto_accept_threshold = models.FloatField(
        default=0.6,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="A prediction at or above this confidence sets the category "
        "without review.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ThresholdChange(models.Model):
    """One change of a category's auto-accept threshold: who, when, from, to, why."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="threshold_changes"
    )
    old_threshold = models.FloatField()
    new_threshold = models.FloatField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["category", "created_at"])]

    def __str__(self) -> str:
        return f"{self.category}: {self.old_threshold:.3f} -> {self.new_threshold:.3f}"


class CategorySource(models.TextChoices):
    MODEL = "model", "Model"
    REVIEWER = "reviewer", "Reviewer"
    MERCHANT = "merchant", "Merchant"


class Product(models.Model):
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="products"
    )
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
    )
    category_source = models.CharField(
        max_length=16, choices=CategorySource.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "sku"], name="product_sku_unique_per_merchant"
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at"]),
            models.Index(fields=["merchant", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


def image_storage_keys(
    *, merchant_id: int, sha256: str, extension: str
) -> tuple[str, str]:
    """Return the keys of an image's bytes and of its thumbnail.

    Content-addressed within one merchant: no stored object is ever shared with
    another merchant, so deleting one merchant's photo cannot remove another's.
    Images stored before keys named the merchant (``images/<sha[:2]>/...``) keep
    their keys: the row holds the name.
    """
    folder = f"{merchant_id}/{sha256[:2]}/{sha256}"
    return f"images/{folder}.{extension}", f"thumbnails/{folder}.webp"


class ImageStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be classified"
    PROCESSING = "processing", "Being classified"
    CLASSIFIED = "classified", "Classified"
    NEEDS_REVIEW = "needs_review", "Waiting for review"
    REVIEWED = "reviewed", "Reviewed"
    FAILED = "failed", "Classification failed"
    # A reviewer found it unusable (not a product, blurry, ...): it decides and
    # teaches nothing.
    UNUSABLE = "unusable", "Unusable photo"


class ProductImage(models.Model):
    """A photo of one product, its bytes stored once per merchant under a key
    derived from their SHA-256 (see image_storage_keys).

    A photo used on several products (variants sharing photos) is one row per
    product naming the same stored file: each product orders, covers, deletes
    and has its photo classified on its own, and the stored object stays until
    no row names it (files_release).
    """

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images"
    )
    # Denormalised from the product so "same bytes, same merchant" is one constraint.
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.CASCADE, related_name="images"
    )
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    # 64-bit perceptual hash (hex) of the picture, to spot near-duplicates.
    phash = models.CharField(max_length=16, blank=True, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=16)
    byte_size = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="uploaded_images",
    )
    status = models.CharField(
        max_length=16, choices=ImageStatus.choices, default=ImageStatus.PENDING
    )
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # Where the merchant placed the photo among the product's (0 first).
    position = models.PositiveIntegerField(default=0)
    # The photo that stands for the product in lists; at most one per product.
    is_cover = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # "Photo" in every page, message and admin label; "image" in the code.
        verbose_name = "photo"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "sha256"], name="image_bytes_unique_per_product"
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=models.Q(is_cover=True),
                name="one_cover_per_product",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "status_changed_at"]),
            models.Index(fields=["sha256"]),
            models.Index(fields=["merchant", "sha256"], name="image_merchant_bytes"),
            models.Index(fields=["product", "position"], name="image_product_order"),
            models.Index(fields=["merchant", "-created_at"]),
            # The dashboards: a period's uploads from the index alone; one
            # merchant's photos waiting or failed, and its image ids to join its
            # predictions to.
            models.Index(
                fields=["created_at", "merchant", "status"],
                name="image_dashboard_period",
            ),
            models.Index(
                fields=["merchant", "status", "id"], name="image_dashboard_merchant"
            ),
        ]

    def __str__(self) -> str:
        return f"Photo {self.pk} of product {self.product_id}"
