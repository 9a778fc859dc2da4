from django.contrib import admin
from django.urls import include, path

from config.health import health

admin.site.site_header = "Vitrine administration"
admin.site.site_title = "Vitrine"

urlpatterns = [
    path("health/", health, name="health"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("catalog.urls")),
]
