"""Input and output shapes for categories, products and images.

Input serializers only validate; the views hand ``validated_data`` to a service.
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from accounts.selectors import merchant_list
from catalog.models import (
    Category,
    CategorySource,
    ImageStatus,
    Product,
    ProductImage,
)
from catalog.selectors import category_list
from config.api import read_only_slug
from config.fields import IdRelatedField

# --- Categories ---------------------------------------------------------------


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """A slug, or null for none; an empty string is refused rather than read as
    null."""

    def get_value(self, dictionary):
        # Form data would turn an empty value into null: keep it, to refuse it.
        value = super().get_value(dictionary)
        if value is None and html.is_html_input(dictionary):
            return dictionary.get(self.field_name, value)
        return value

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)


def category_slug_field(help_text: str) -> StrictSlugRelatedField:
    """An optional category, named by its slug (null for none)."""
    return StrictSlugRelatedField(
        slug_field="slug",
        queryset=category_list(),
        required=False,
        allow_null=True,
        help_text=help_text,
    )


class CategorySerializer(serializers.ModelSerializer):
    parent = read_only_slug("slug")

    class Meta:
        model = Category
        fields = [
            "id",
            "name",
            "slug",
            "parent",
            "description",
            "auto_accept_threshold",
            "created_at",
        ]
        read_only_fields = fields


class CategoryInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="Defaults to the name, slugified.",
    )
    parent = category_slug_field("The slug of the parent category.")
    description = serializers.CharField(required=False, allow_blank=True)
    auto_accept_threshold = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        required=False,
        help_text="A prediction at or above this confidence sets the category "
        "without review (VITRINE_DEFAULT_THRESHOLD when left out).",
    )


# --- Products -----------------------------------------------------------------


class ProductImageSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ProductImage
        fields = ["id", "status", "position", "is_cover", "created_at"]
        read_only_fields = fields


class ProductBulkInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[("set_category", "Set category"), ("delete", "Delete")]
    )
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=500,
        help_text="Ids of the products to act on (at most 500).",
    )
    category = StrictSlugRelatedField(
        slug_field="slug",
        queryset=Category.objects.all(),
        required=False,
        help_text="The category to set (slug); required by `set_category`.",
    )

    def validate(self, data):
        if data["action"] == "set_category" and not data.get("category"):
            raise serializers.ValidationError(
                {"category": ["Name the category to set."]}
            )
        return data


class ProductBulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField(
        help_text="Products deleted, or whose category changed."
    )


class ImageOrderInputSerializer(serializers.Serializer):
    images = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=False,
        max_length=1000,
        help_text="Every photo id of the product once, first to last.",
    )


class ImageShareInputSerializer(serializers.Serializer):
    image = serializers.IntegerField(
        min_value=1, help_text="A photo of another of the merchant's products."
    )


class ImageShareResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField()
    created = serializers.BooleanField(
        help_text="False when the product already had these bytes."
    )


class ProductSerializer(serializers.ModelSerializer):
    category = read_only_slug("slug")
    category_source = serializers.ChoiceField(
        choices=CategorySource.choices,
        allow_blank=True,
        read_only=True,
        help_text="Who chose the category; empty while there is none.",
    )
    image_count = serializers.SerializerMethodField()
    review_count = serializers.SerializerMethodField(
        help_text="Images waiting for a reviewer."
    )
    images = ProductImageSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "merchant",
            "sku",
            "name",
            "description",
            "price",
            "category",
            "category_source",
            "image_count",
            "review_count",
            "images",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    # Counted from the prefetched images: no query of their own.
    def get_image_count(self, product: Product) -> int:
        return len(product.images.all())

    def get_review_count(self, product: Product) -> int:
        return sum(
            image.status == ImageStatus.NEEDS_REVIEW for image in product.images.all()
        )


class ProductInputSerializer(serializers.Serializer):
    merchant = IdRelatedField(
        queryset=merchant_list(),
        required=False,
        help_text="Staff only, and required for staff when creating: the merchant "
        "the product belongs to. A merchant's token always writes its own.",
    )
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        coerce_to_string=True,
    )
    category = category_slug_field(
        "A category slug: the merchant's own choice, which the model will not override."
    )

    def validate_sku(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The SKU cannot be blank.")
        return value

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("The name cannot be blank.")
        return value


# --- Images -------------------------------------------------------------------


class ImageUploadInputSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        help_text="One or several photos (JPEG, PNG, WebP, GIF or HEIC), each "
        "sent as a `file` part. The number of files is capped by "
        "VITRINE_UPLOAD_MAX_FILES, each file by VITRINE_UPLOAD_MAX_BYTES.",
    )

    def validate_file(self, files: list) -> list:
        limit = settings.VITRINE_UPLOAD_MAX_FILES
        if len(files) > limit:
            raise serializers.ValidationError(f"At most {limit} files per request.")
        return files


class ImageUploadedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product = serializers.IntegerField(
        help_text="The product the image is on: another product of the merchant "
        "when the same bytes were uploaded there before."
    )
    name = serializers.CharField(help_text="The uploaded file's name.")
    status = serializers.ChoiceField(choices=ImageStatus.choices)
    created = serializers.BooleanField(
        help_text="False when the same bytes were already stored: the answer is "
        "the existing image."
    )


class ImageUploadResultSerializer(serializers.Serializer):
    images = ImageUploadedSerializer(many=True)


class TopKEntrySerializer(serializers.Serializer):
    category = serializers.CharField(help_text="Category slug.")
    name = serializers.CharField(allow_null=True, help_text="Category name.")
    probability = serializers.FloatField()


class ModelVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ImagePredictionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    category = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(allow_null=True)
    margin = serializers.FloatField(allow_null=True)
    top_k = TopKEntrySerializer(many=True)
    model_version = ModelVersionRefSerializer()
    latency_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ImageReviewSerializer(serializers.Serializer):
    decision = serializers.CharField()
    final_category = serializers.CharField(allow_null=True)
    reviewer = serializers.CharField(
        allow_null=True,
        help_text="Reviewers and platform admins only; null for merchants.",
    )
    note = serializers.CharField(
        allow_null=True,
        help_text="Reviewers and platform admins only; null for merchants.",
    )
    created_at = serializers.DateTimeField()


class ImageSerializer(serializers.ModelSerializer):
    """An image with its current prediction and the latest review of it.

    Expects ``prediction`` (or None), ``review`` (or None) and ``category_names``
    in the serializer context, looked up by the view in a fixed number of queries,
    and ``review_details``: whether the caller may see who reviewed and the note.
    """

    file_url = serializers.SerializerMethodField()
    storage_url = serializers.SerializerMethodField()
    prediction = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = [
            "id",
            "product",
            "merchant",
            "status",
            "status_changed_at",
            "width",
            "height",
            "format",
            "byte_size",
            "sha256",
            "original_name",
            "position",
            "is_cover",
            "file_url",
            "storage_url",
            "prediction",
            "review",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_file_url(self, image: ProductImage) -> str:
        """The API's download of the original file (token or session)."""
        path = reverse("api:image-file", kwargs={"pk": image.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(OpenApiTypes.STR)
    def get_storage_url(self, image: ProductImage) -> str:
        """Where the storage backend serves the file: a short-lived signed URL on
        S3; a path under MEDIA_URL on local storage, which only a web server
        configured for it serves."""
        return default_storage.url(image.file.name)

    @extend_schema_field(ImagePredictionSerializer(allow_null=True))
    def get_prediction(self, image: ProductImage) -> dict | None:
        prediction = self.context["predictions"].get(image.pk)
        if prediction is None:
            return None
        return prediction_summary(prediction, self.context["category_names"])

    @extend_schema_field(ImageReviewSerializer(allow_null=True))
    def get_review(self, image: ProductImage) -> dict | None:
        prediction = self.context["predictions"].get(image.pk)
        review = self.context["reviews"].get(prediction.pk) if prediction else None
        if review is None:
            return None
        details = self.context.get("review_details", False)
        return {
            "decision": review.decision,
            "final_category": review.final_category.slug
            if review.final_category
            else None,
            "reviewer": review.reviewer.get_username()
            if details and review.reviewer
            else None,
            "note": review.note if details else None,
            "created_at": review.created_at,
        }


def top_k_with_names(top_k: list[dict], names: dict[str, str]) -> list[dict]:
    return [
        {
            "category": entry["category"],
            "name": names.get(entry["category"]),
            "probability": entry["probability"],
        }
        for entry in top_k
    ]


def prediction_summary(prediction, names: dict[str, str]) -> dict:
    return {
        "id": prediction.pk,
        "status": prediction.status,
        "category": prediction.category.slug if prediction.category else None,
        "confidence": prediction.confidence,
        "margin": prediction.margin,
        "top_k": top_k_with_names(prediction.top_k, names),
        "model_version": {
            "id": prediction.model_version_id,
            "name": prediction.model_version.name,
        },
        "latency_ms": prediction.latency_ms,
        "error": prediction.error,
        "created_at": prediction.created_at,
    }


class ReclassifyResultSerializer(serializers.Serializer):
    queued = serializers.BooleanField(
        help_text="False when the active model version has already classified "
        "this image: there is nothing new to learn from it."
    )
    status = serializers.ChoiceField(choices=ImageStatus.choices)
    model_version = ModelVersionRefSerializer()
