"""The API's routes: one router under ``/api/v1/``, the schema and its docs.

Each app's ``api/urls.py`` lists its viewsets in ``routes`` and its other views
in ``urlpatterns``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from accounts.api import urls as accounts_urls
from catalog.api import urls as catalog_urls
from classification.api import urls as classification_urls
from webhooks.api import urls as webhooks_urls

APPS = [accounts_urls, catalog_urls, classification_urls, webhooks_urls]


class Router(SimpleRouter):
    """Object ids are integers: anything else in their place is a 404 at once."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        # At most 18 digits: always within a 64-bit key.
        return rf"(?P<{lookup_prefix}pk>[0-9]{{1,18}})"


router = Router()
for app in APPS:
    for prefix, viewset, basename in app.routes:
        router.register(prefix, viewset, basename=basename)

v1 = [*router.urls]
for app in APPS:
    v1 += app.urlpatterns

app_name = "api"
urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
]
