"""Where classification starts: catalog writes that classification must follow.

Catalog stands on a lower floor and knows nothing of classification, so what
happens after a photo is stored or a product's category changes is started
here, by an explicit call, never by a signal: it is the product's main flow.

- images_intake writes down, with the stored images, that they are owed a
  classification, queued once the transaction commits (the worker's
  classify_image task, DESIGN's step 2) or later by the upkeep's dispatcher.
- product_category_changed decides again which of the product's photos need a
  person (see product_category.products_decide).

image_upload, images_store, image_share and product_update are catalog's writes
of the same names followed by those reactions, in one transaction: the one call
for pages, the API, commands and scripts that store photos or edit products. A
caller that uses catalog's services directly stores without classifying.
"""

from collections.abc import Iterable, Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from accounts.models import User
from catalog import services as catalog_services
from catalog.models import ImageStatus, Product, ProductImage
from catalog.services import PreparedImage
from classification.models import ModelVersion, Prediction
from classification.services import dispatch
from classification.services.product_category import products_decide
from classification.services.versions import model_version_ensure_default


def images_intake(*, images: Iterable[ProductImage]) -> None:
    """Write down, in the current transaction, that each image is owed a
    classification; it is queued once the transaction commits, or by the
    upkeep when the broker does not answer then (services.dispatch)."""
    dispatch.requests_open(image_ids=[image.pk for image in images])


def _images_owed_again(*, images: Iterable[ProductImage]) -> None:
    """Bytes uploaded again whose classification was never queued (the broker
    was away the first time): queue it now."""
    owed = dispatch.requests_owed(image_ids=[image.pk for image in images])
    if owed:
        dispatch.on_commit_dispatch(image_ids=owed)


def product_category_changed(*, product: Product) -> int:
    """Decide again which of the product's predictions need a person, now that
    its category changed; return how many changed (locks them meanwhile)."""
    with transaction.atomic():
        return products_decide(product_ids=[product.pk]).moved


def image_upload(
    *, product: Product, upload: UploadedFile, user: User | None
) -> tuple[ProductImage, bool]:
    """Store one photo (catalog's image_upload) and queue a new one for
    classification; return the image and whether it is new."""
    with transaction.atomic():
        image, created = catalog_services.image_upload(
            product=product, upload=upload, user=user
        )
        if created:
            images_intake(images=[image])
        else:
            _images_owed_again(images=[image])
    return image, created


def images_store(
    *, product: Product, prepared: Sequence[PreparedImage], user: User | None
) -> list[tuple[ProductImage, bool]]:
    """Store checked photos (catalog's images_store) and queue the new ones for
    classification; return each image and whether it is new."""
    with transaction.atomic():
        stored = catalog_services.images_store(
            product=product, prepared=prepared, user=user
        )
        images_intake(images=[image for image, created in stored if created])
        _images_owed_again(images=[image for image, created in stored if not created])
    return stored


def image_share(
    *, image: ProductImage, product: Product, user: User | None
) -> tuple[ProductImage, bool]:
    """Use the merchant's photo on ``product`` too (catalog's image_share) and
    queue the new row: its classification reuses the stored prediction of the
    same bytes, and the product's own threshold and category decide."""
    with transaction.atomic():
        shared, created = catalog_services.image_share(
            image=image, product=product, user=user
        )
        if created:
            images_intake(images=[shared])
    return shared, created


def product_update(*, product: Product, **fields) -> Product:
    """Update the product (catalog's product_update); a category change sends
    its predictions through product_category_changed in the same transaction."""
    with transaction.atomic():
        product, category_changed = catalog_services.product_update(
            product=product, **fields
        )
        if category_changed:
            product_category_changed(product=product)
    return product


def products_set_category(*, products: Iterable[Product], category) -> int:
    """Make ``category`` the merchant's choice for each product (product_update),
    in one transaction; return how many changed category."""
    changed = 0
    with transaction.atomic():
        for product in products:
            if product.category_id != category.pk:
                product_update(product=product, category=category)
                changed += 1
    return changed


def image_reclassify(*, image: ProductImage) -> tuple[ModelVersion, bool]:
    """Queue the image for the active version, unless that version has seen it.

    Return the active version and whether the image was queued. An image whose
    last attempt with this version failed is queued again.
    """
    version = model_version_ensure_default()
    seen = (
        Prediction.objects.filter(image=image, model_version=version)
        .exclude(status=Prediction.Status.FAILED)
        .exists()
    )
    if seen:
        return version, False
    catalog_services.image_set_status(image=image, status=ImageStatus.PENDING)
    images_intake(images=[image])
    return version, True
