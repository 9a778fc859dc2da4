from django.urls import path

from catalog import views, views_photos, views_table

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/bulk/", views_table.product_bulk, name="product-bulk"),
    path("products/<int:pk>/", views_photos.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product-delete"),
    path("products/<int:pk>/images/", views.image_upload, name="image-upload"),
    path(
        "products/<int:pk>/status/", views_photos.product_status, name="product-status"
    ),
    path(
        "products/<int:pk>/images/<int:image_pk>/delete/",
        views_photos.image_delete,
        name="image-delete",
    ),
    path(
        "products/<int:pk>/images/<int:image_pk>/cover/",
        views_photos.image_cover,
        name="image-cover",
    ),
    path(
        "products/<int:pk>/images/order/", views_photos.image_order, name="image-order"
    ),
    path(
        "products/<int:pk>/images/share/", views_photos.image_share, name="image-share"
    ),
    path(
        "products/<int:pk>/category/",
        views_photos.product_category,
        name="product-category",
    ),
    path("images/<int:pk>/file/", views.image_file, name="image-file"),
    path("images/<int:pk>/thumbnail/", views.image_thumbnail, name="image-thumbnail"),
]
