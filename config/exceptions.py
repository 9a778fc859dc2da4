"""One error shape for the whole API: ``{"error": {"code", "message", "details"}}``.

``code`` is a stable machine-readable word (``invalid``, ``not_found``,
``throttled``, ``file_too_large``...), ``message`` a sentence for people and
``details`` an object or null: the field errors of a 400, the files of a rejected
upload, the seconds to wait after a 429. The errors services raise
(config/errors.py) and DRF's own pass through :func:`api_exception_handler`;
Django's own 404 and 500 pages answer the same shape for paths under ``/api/``.
"""

import logging

from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.errors import (
    INVALID_MESSAGE,
    InvalidInput,
    TooLarge,
    VitrineError,
    image_rejection,
)
from imaging.errors import ImageRejected

logger = logging.getLogger(__name__)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable machine-readable word.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    details = serializers.JSONField(
        allow_null=True,
        help_text="Field errors (400), rejected files (413/415), seconds to wait "
        "(429), or null.",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    error = ErrorBodySerializer()


def error_body(code: str, message: str, details=None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


def api_exception_handler(exc, context) -> Response | None:
    """Turn any error a view raises into the shared shape; None lets Django 500."""
    if isinstance(exc, RequestDataTooBig | TooManyFilesSent):
        exc = TooLarge(
            "The request is too large or has too many files.",
            code="request_too_large",
        )
    elif isinstance(exc, TooManyFieldsSent | SuspiciousOperation):
        exc = VitrineError(str(exc), code="bad_request")
    elif isinstance(exc, ImageRejected):
        exc = image_rejection(exc)
    if isinstance(exc, VitrineError):
        return Response({"error": exc.body()}, status=exc.status)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail
        if not isinstance(details, dict):
            details = {"non_field_errors": details}
        response.data = error_body(InvalidInput.code, INVALID_MESSAGE, details)
        return response
    detail = response.data.get("detail") if isinstance(response.data, dict) else None
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    details = None
    if isinstance(exc, exceptions.Throttled):
        details = {"retry_after": exc.wait and int(exc.wait + 0.999)}
    message = str(detail) if detail is not None else str(exc)
    response.data = error_body(code, message, details)
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def api_not_found() -> JsonResponse:
    """The API's answer for a path no endpoint answers."""
    return JsonResponse(
        error_body("not_found", "No API endpoint answers at this path."),
        status=404,
    )


def page_not_found(request: HttpRequest, exception=None):
    if _is_api(request):
        return api_not_found()
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest):
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", "Something failed on the server."),
            status=500,
        )
    return defaults.server_error(request)


def bad_request(request: HttpRequest, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("bad_request", "The request could not be understood."),
            status=400,
        )
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", str(exception) or "Forbidden."),
            status=403,
        )
    return defaults.permission_denied(request, exception)
