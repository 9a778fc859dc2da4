from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.product_list, name="product-list"),
    path("products/new/", views.product_create, name="product-create"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product-edit"),
    path("products/<int:pk>/delete/", views.product_delete, name="product-delete"),
    path("products/<int:pk>/images/", views.image_upload, name="image-upload"),
    path("products/<int:pk>/status/", views.product_status, name="product-status"),
    path("images/<int:pk>/file/", views.image_file, name="image-file"),
    path("images/<int:pk>/thumbnail/", views.image_thumbnail, name="image-thumbnail"),
]
