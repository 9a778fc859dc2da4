"""Pages answer a service's error once, here, instead of in every view.

A :class:`~config.errors.VitrineError` that leaves a page's view becomes what a
person can act on: after a form is posted, the page they came from again with the
error as a message; on a plain visit, a page with the error and its status (409,
404...). The API answers its own way (config/exceptions.py), so its paths are
left alone.
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from config.errors import VitrineError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ServiceErrorMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if not isinstance(exception, VitrineError) or request.path.startswith("/api/"):
            return None
        if request.method in SAFE_METHODS:
            return render(
                request,
                "error.html",
                {"message": exception.message, "status": exception.status},
                status=exception.status,
            )
        messages.error(request, exception.message)
        return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """The page the form was posted from, else the path it was posted to."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return request.get_full_path()
