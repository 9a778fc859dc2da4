"""Routes of the catalog API, registered on the one router in config/api_urls."""

from catalog.api import views

routes = [
    ("categories", views.CategoryViewSet, "category"),
    ("products", views.ProductViewSet, "product"),
    ("images", views.ImageViewSet, "image"),
]

urlpatterns: list = []
