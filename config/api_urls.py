"""The API's routes: one router under ``/api/v1/``, the schema and its docs.

Each app's ``api/urls.py`` lists its viewsets in ``routes`` and its other views
in ``urlpatterns``. ``/api/v1/`` itself answers an index of the API; any other
path under ``/api/`` answers the JSON 404, in debug mode too (Django's debug 404
page would otherwise answer HTML to an API client).
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path, reverse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from accounts.api import urls as accounts_urls
from catalog.api import urls as catalog_urls
from classification.api import urls as classification_urls
from config.exceptions import api_not_found
from imports.api import urls as imports_urls
from webhooks.api import urls as webhooks_urls

APPS = [accounts_urls, catalog_urls, classification_urls, imports_urls, webhooks_urls]


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


@extend_schema(exclude=True)
class IndexView(APIView):
    """Where the API's schema, docs and collections are, for a client's first
    request; it needs no credentials and tells nothing the schema does not."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        def link(name: str) -> str:
            return request.build_absolute_uri(reverse(f"api:{name}"))

        return Response(
            {
                "version": "v1",
                "schema": link("schema"),
                "docs": link("docs"),
                "endpoints": {
                    prefix: link(f"{basename}-list")
                    for prefix, _, basename in router.registry
                },
            }
        )


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return api_not_found()


app_name = "api"
urlpatterns = [
    path("v1/", IndexView.as_view(), name="index"),
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
    # Last: what no route above answers. Only paths ending in a slash, so that
    # CommonMiddleware still redirects /api/v1/products to /api/v1/products/.
    re_path(r"^(?P<rest>.*/)?$", not_found, name="not-found"),
]
