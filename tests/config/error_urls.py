"""Pages whose service refuses, for the page mapping of service errors."""

from django.http import HttpResponse
from django.urls import path

from config.errors import Conflict, NotFound
from config.urls import urlpatterns as project_urlpatterns


def refuse(request):
    if request.method == "POST":
        raise Conflict("That SKU is taken by another product.")
    raise NotFound("There is no such product.")


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("refuse/", refuse),
    path("broken/", broken),
    path("api/refuse/", refuse),
    path("fine/", lambda request: HttpResponse("fine")),
    # The pages' base template links to the project's pages.
    *project_urlpatterns,
]
