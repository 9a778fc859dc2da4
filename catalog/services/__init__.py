"""Writes for the catalog: products, categories (products.py) and images (images.py).

Catalog is a lower floor: it imports no app above it. Its writes store and
return what they did (an image and whether it is new; a product and whether its
category changed); what classification does about it is classification's to
start (classification.services.intake), so that pages and the API call that
module's image_upload, images_store and product_update.

The names are importable from here, as before the package was split.
"""

from catalog.services.images import (
    PreparedImage,
    image_delete,
    image_prepare,
    image_set_cover,
    image_set_status,
    image_share,
    image_upload,
    images_reorder,
    images_set_status,
    images_store,
    upload_read,
)
from catalog.services.products import (
    CategoryConflict,
    CategoryError,
    ProductError,
    category_create,
    category_delete,
    category_thresholds_set,
    category_update,
    product_create,
    product_delete,
    product_set_category,
    product_update,
    products_delete,
    products_set_categories,
)

__all__ = [
    "CategoryConflict",
    "CategoryError",
    "PreparedImage",
    "ProductError",
    "category_create",
    "category_delete",
    "category_thresholds_set",
    "category_update",
    "image_delete",
    "image_prepare",
    "image_set_cover",
    "image_set_status",
    "image_share",
    "image_upload",
    "images_reorder",
    "images_set_status",
    "images_store",
    "product_create",
    "product_delete",
    "product_set_category",
    "product_update",
    "products_delete",
    "products_set_categories",
    "upload_read",
]
