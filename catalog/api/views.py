"""Categories, products and images. Every read goes through a scoped selector:
another merchant's product or image answers 404, never 403."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.api.permissions import MerchantScoped, request_merchant
from accounts.roles import Capability, user_can
from catalog import selectors, services
from catalog.api.filters import CategoryFilter, ImageFilter, ProductFilter
from catalog.api.serializers import (
    CategoryInputSerializer,
    CategorySerializer,
    ImageOrderInputSerializer,
    ImageSerializer,
    ImageShareInputSerializer,
    ImageShareResultSerializer,
    ImageUploadInputSerializer,
    ImageUploadResultSerializer,
    ProductBulkInputSerializer,
    ProductBulkResultSerializer,
    ProductInputSerializer,
    ProductSerializer,
    ReclassifyResultSerializer,
)
from catalog.api.uploads import rejection_error
from catalog.models import Product, ProductImage
from catalog.views import stored_file_response
from classification import selectors as classification_selectors
from classification.services import intake
from config.api import (
    IDEMPOTENCY_KEY_PARAMETER,
    IdempotentCreate,
    MerchantWrites,
    idempotent,
    validated,
    write_schemas,
)
from config.errors import InvalidInput, NotFound
from imaging.errors import ImageRejected

# --- Categories ---------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="The taxonomy; anyone may read it."),
    retrieve=extend_schema(description="One category; anyone may read it."),
    **write_schemas(
        request=CategoryInputSerializer,
        response=CategorySerializer,
        create="Platform admins: add a category.",
        update="Platform admins: replace a category's fields.",
        partial_update="Platform admins: change some of a category's fields.",
    ),
    destroy=extend_schema(
        description="Platform admins: delete a category without sub-categories (409 "
        "otherwise); its products become uncategorised."
    ),
)
@extend_schema(tags=["categories"])
class CategoryViewSet(IdempotentCreate, viewsets.ModelViewSet):
    serializer_class = CategorySerializer
    capabilities = {
        "list": Capability.CATEGORY_VIEW,
        "retrieve": Capability.CATEGORY_VIEW,
        "create": Capability.CATEGORY_MANAGE,
        "update": Capability.CATEGORY_MANAGE,
        "partial_update": Capability.CATEGORY_MANAGE,
        "destroy": Capability.CATEGORY_MANAGE,
    }
    filterset_class = CategoryFilter
    ordering_fields = ["name", "slug", "created_at"]
    extra_error_codes = (409,)

    def get_queryset(self):
        return selectors.category_list()

    def get_object(self):
        return selectors.category_get(pk=self.kwargs["pk"])

    def create_once(self, request):
        data = validated(CategoryInputSerializer, request)
        category = services.category_create(**data)
        return Response(
            CategorySerializer(category).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        category = self.get_object()
        partial = kwargs.get("partial", False)
        data = validated(CategoryInputSerializer, request, partial=partial)
        category = services.category_update(
            category=category, user=request.user, **data
        )
        return Response(CategorySerializer(category).data)

    def perform_destroy(self, instance):
        services.category_delete(category=instance)


# --- Products -----------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="The merchant's products (platform admins and reviewers: "
        "every merchant's), newest "
        "first, with image counts and image statuses."
    ),
    retrieve=extend_schema(description="One product."),
    **write_schemas(
        request=ProductInputSerializer,
        response=ProductSerializer,
        create="Create a product. Platform admins name the `merchant`.",
        update="Replace a product's fields (sku and name required).",
        partial_update="Change some of a product's fields.",
    ),
    destroy=extend_schema(
        description="Delete a product with its images and their predictions."
    ),
)
@extend_schema(tags=["products"])
class ProductViewSet(
    MerchantScoped, MerchantWrites, IdempotentCreate, viewsets.ModelViewSet
):
    serializer_class = ProductSerializer
    model = Product
    scoped_list = selectors.products_with_images
    scoped_get = selectors.product_get
    merchant_foreign = "A merchant can only create its own products."
    merchant_missing = "A platform admin must name the merchant of the product."
    merchant_moved = "A product cannot move to another merchant."
    capabilities = {
        "list": Capability.PRODUCT_VIEW,
        "retrieve": Capability.PRODUCT_VIEW,
        "create": Capability.PRODUCT_MANAGE,
        "update": Capability.PRODUCT_MANAGE,
        "partial_update": Capability.PRODUCT_MANAGE,
        "destroy": Capability.PRODUCT_MANAGE,
        "images": Capability.PRODUCT_MANAGE,
        "images_order": Capability.PRODUCT_MANAGE,
        "images_share": Capability.PRODUCT_MANAGE,
        "bulk": Capability.PRODUCT_MANAGE,
    }
    filterset_class = ProductFilter
    ordering_fields = ["created_at", "updated_at", "name", "sku", "price"]
    extra_error_codes = (409, 413)

    def _answer(self, product, status_code=status.HTTP_200_OK) -> Response:
        # Read back through the list selector, with the images.
        product = self.get_queryset().get(pk=product.pk)
        return Response(
            ProductSerializer(product, context=self.get_serializer_context()).data,
            status=status_code,
        )

    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    def create_once(self, request):
        merchant, fields = self.create_input(ProductInputSerializer)
        product = services.product_create(merchant=merchant, **fields)
        return self._answer(product, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        product, fields = self.update_input(
            ProductInputSerializer, partial=kwargs.get("partial", False)
        )
        product = intake.product_update(product=product, **fields)
        return self._answer(product)

    def perform_destroy(self, instance):
        services.product_delete(product=instance)

    @extend_schema(
        operation_id="products_images_upload",
        request={"multipart/form-data": ImageUploadInputSerializer},
        responses={
            202: ImageUploadResultSerializer,
            200: OpenApiResponse(
                ImageUploadResultSerializer,
                description="Every file was already stored: nothing new to classify.",
            ),
        },
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        description="Upload one or several photos (multipart parts named `file`). "
        "All files are checked first: if any is rejected, none is stored and the "
        "answer is 413 (too many bytes or pixels), 415 (not an image) or 400 "
        "(empty or damaged), with every rejected file in `details.files`. "
        "Accepted photos are stored and queued for classification: 202. Bytes "
        "already uploaded by the merchant answer the existing image "
        "(`created: false`).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="images",
        parser_classes=[MultiPartParser],
    )
    def images(self, request, pk=None):
        return idempotent(request, lambda: self._upload(request))

    def _upload(self, request):
        product = self.get_object()
        data = validated(ImageUploadInputSerializer, request)
        files = data["file"]
        rejected, prepared = [], []
        for upload in files:
            try:
                prepared.append(services.image_prepare(upload=upload))
            except ImageRejected as error:
                rejected.append((upload.name, error))
        if rejected:
            raise rejection_error(rejected)
        stored = intake.images_store(
            product=product, prepared=prepared, user=request.user
        )
        results = [
            {
                "id": image.pk,
                "product": image.product_id,
                "name": upload.name,
                "status": image.status,
                "created": created,
            }
            for upload, (image, created) in zip(files, stored, strict=True)
        ]
        any_new = any(result["created"] for result in results)
        return Response(
            ImageUploadResultSerializer({"images": results}).data,
            status=status.HTTP_202_ACCEPTED if any_new else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="products_bulk",
        request=ProductBulkInputSerializer,
        responses={200: ProductBulkResultSerializer},
        description="Act on many products at once: `set_category` (the "
        "merchant's choice, as an edit is) or `delete` (with their photos). "
        "Every id must be one of the caller's products, else 400 with the "
        "unknown ids in `details.products` and nothing changed.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = validated(ProductBulkInputSerializer, request)
        ids = set(data["products"])
        products = selectors.products_of(
            merchant=request_merchant(request, self), ids=ids
        )
        unknown = sorted(ids - {product.pk for product in products})
        if unknown:
            raise InvalidInput(
                "Some products do not exist or are not yours.",
                details={"products": [f"Unknown product ids: {unknown}"]},
            )
        if data["action"] == "delete":
            count = services.products_delete(products=products)
        else:
            count = intake.products_set_category(
                products=products, category=data["category"]
            )
        return Response(
            ProductBulkResultSerializer({"action": data["action"], "count": count}).data
        )

    @extend_schema(
        operation_id="products_images_order",
        request=ImageOrderInputSerializer,
        responses={204: None},
        description="Put the product's photos in the given order: `images` lists "
        "each of its photo ids once, first to last (400 otherwise, nothing "
        "changed).",
    )
    @action(detail=True, methods=["post"], url_path="images/order")
    def images_order(self, request, pk=None):
        product = self.get_object()
        data = validated(ImageOrderInputSerializer, request)
        services.images_reorder(product=product, image_ids=data["images"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="products_images_share",
        request=ImageShareInputSerializer,
        responses={
            201: ImageShareResultSerializer,
            200: OpenApiResponse(
                ImageShareResultSerializer,
                description="The product already has these bytes: its own photo.",
            ),
        },
        description="Use a photo of another of the merchant's products on this "
        "one too (variants sharing photos): the bytes stay stored once, and the "
        "new photo is classified with the stored prediction of the same bytes. "
        "404 for a photo of another merchant.",
    )
    @action(detail=True, methods=["post"], url_path="images/share")
    def images_share(self, request, pk=None):
        product = self.get_object()
        data = validated(ImageShareInputSerializer, request)
        image = selectors.images_by_id(ids=[data["image"]]).get(data["image"])
        if image is None or image.merchant_id != product.merchant_id:
            raise NotFound("No such photo.", code="image_not_found", field="image")
        shared, created = intake.image_share(
            image=image, product=product, user=request.user
        )
        return Response(
            ImageShareResultSerializer(
                {"id": shared.pk, "product": product.pk, "created": created}
            ).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- Images -------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        description="The merchant's images (platform admins and reviewers: all), "
        "with current prediction "
        "and review state."
    ),
    retrieve=extend_schema(
        description="An image: status, size, storage URL, its current prediction "
        "(top-5 with probabilities and model version) and the latest review."
    ),
)
@extend_schema(tags=["images"])
class ImageViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ImageSerializer
    capabilities = {
        "list": Capability.IMAGE_VIEW,
        "retrieve": Capability.IMAGE_VIEW,
        "file": Capability.IMAGE_VIEW,
        "reclassify": Capability.IMAGE_RECLASSIFY,
        "destroy": Capability.PRODUCT_MANAGE,
        "cover": Capability.PRODUCT_MANAGE,
    }
    filterset_class = ImageFilter
    ordering_fields = ["created_at", "status_changed_at"]

    def perform_content_negotiation(self, request, force=False):
        # A client asking for the file's own type (image/jpeg) still gets the
        # file, and JSON for an error.
        return super().perform_content_negotiation(request, force=True)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ProductImage.objects.none()
        return selectors.image_list(merchant=request_merchant(self.request, self))

    def _context(self, images) -> dict:
        predictions = classification_selectors.predictions_current_for_images(
            image_ids=[image.pk for image in images]
        )
        reviews = classification_selectors.reviews_latest_for_predictions(
            prediction_ids=[p.pk for p in predictions.values()]
        )
        return {
            **self.get_serializer_context(),
            "predictions": predictions,
            "reviews": reviews,
            "category_names": selectors.category_names(),
            "review_details": user_can(
                self.request.user, Capability.REVIEW_DETAILS_VIEW
            ),
        }

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        serializer = ImageSerializer(page, many=True, context=self._context(page))
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, pk=None):
        image = selectors.image_get(merchant=request_merchant(request, self), pk=pk)
        return Response(ImageSerializer(image, context=self._context([image])).data)

    @extend_schema(
        responses={204: None},
        description="Delete a photo from its product. The stored file stays while "
        "another product uses the same photo.",
    )
    def destroy(self, request, pk=None):
        image = selectors.image_get(merchant=request_merchant(request, self), pk=pk)
        services.image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="images_cover",
        request=None,
        responses={200: ImageSerializer},
        description="Make the photo its product's cover photo (the one lists show).",
    )
    @action(detail=True, methods=["post"])
    def cover(self, request, pk=None):
        image = selectors.image_get(merchant=request_merchant(request, self), pk=pk)
        services.image_set_cover(image=image)
        return Response(ImageSerializer(image, context=self._context([image])).data)

    @extend_schema(
        operation_id="images_reclassify",
        request=None,
        responses={
            202: ReclassifyResultSerializer,
            200: OpenApiResponse(
                ReclassifyResultSerializer,
                description="The active version has already classified the image.",
            ),
        },
        description="Platform admins: queue the image for the active model version. An "
        "image that version has already classified is left as it is (200).",
    )
    @action(detail=True, methods=["post"])
    def reclassify(self, request, pk=None):
        image = selectors.image_get(merchant=None, pk=pk)
        version, queued = intake.image_reclassify(image=image)
        return Response(
            ReclassifyResultSerializer(
                {
                    "queued": queued,
                    "status": image.status,
                    "model_version": {"id": version.pk, "name": version.name},
                }
            ).data,
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_200_OK,
        )

    @extend_schema(
        operation_id="images_file",
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The original file."
            ),
            302: OpenApiResponse(
                description="A redirect to a short-lived signed URL of the object "
                "store."
            ),
        },
        description="Download the original file.",
    )
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None):
        image = selectors.image_get(merchant=request_merchant(request, self), pk=pk)
        return stored_file_response(image.file.name)
