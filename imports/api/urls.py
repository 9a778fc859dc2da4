"""Routes of the catalog import API, registered on the one router in config/api_urls."""

from imports.api import views

routes = [("imports", views.ImportJobViewSet, "import")]

urlpatterns: list = []
