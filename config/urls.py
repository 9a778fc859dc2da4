from django.contrib import admin
from django.urls import include, path

from config.health import health, health_ready

admin.site.site_header = "Vitrine administration"
admin.site.site_title = "Vitrine"

urlpatterns = [
    path("health/", health, name="health"),
    path("health/ready/", health_ready, name="health-ready"),
    path("api/", include("config.api_urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("dashboard/", include("dashboard.urls")),
    path("imports/", include("imports.urls")),
    path("", include("catalog.urls")),
]

# Paths under /api/ answer errors in the API's JSON shape; others get pages.
handler400 = "config.exceptions.bad_request"
handler403 = "config.exceptions.permission_denied"
handler404 = "config.exceptions.page_not_found"
handler500 = "config.exceptions.server_error"
