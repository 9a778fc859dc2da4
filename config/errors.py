"""The errors services raise: one hierarchy, each error with a code and a status.

Services raise these; they never build HTTP answers. The API's exception handler
(config/exceptions.py) turns any of them into the one error shape, and pages
(config/middleware.py) into a message or a 4xx page. This module imports nothing
from Django or the apps (only the Django-free ``imaging`` package, whose refusals
it maps), so every floor may use it.

``code`` is a stable machine-readable word, ``message`` a sentence for people;
``field`` names the input the error is about, and ``details`` (an object) says
more: an error with a ``field`` and no ``details`` answers ``{field: [message]}``.
An error whose code is ``invalid`` answers as the request's own validation
errors do: the details carry its message, under its field or
``non_field_errors``.
"""

from http import HTTPStatus

from imaging.errors import ImageRejected

INVALID_MESSAGE = "The request is invalid; see the details."


class VitrineError(Exception):
    """An error the platform raises on purpose, with a code and an HTTP status."""

    status: int = HTTPStatus.BAD_REQUEST
    code: str = "error"
    field: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict | None = None,
        field: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
        self.details = details

    def body(self) -> dict:
        """The ``error`` object of the API's answer."""
        if self.code == InvalidInput.code:
            details = self.details or {self.field or "non_field_errors": [self.message]}
            return {"code": self.code, "message": INVALID_MESSAGE, "details": details}
        details = self.details
        if details is None and self.field:
            details = {self.field: [self.message]}
        return {"code": self.code, "message": self.message, "details": details}


class InvalidInput(VitrineError):
    """The input cannot be used as given (400)."""

    status = HTTPStatus.BAD_REQUEST
    code = "invalid"


class NotFound(VitrineError):
    """What the input names does not exist, or is not the caller's to see (404)."""

    status = HTTPStatus.NOT_FOUND
    code = "not_found"


class Conflict(VitrineError):
    """The request is valid but clashes with what is stored (409)."""

    status = HTTPStatus.CONFLICT
    code = "conflict"


class TooLarge(VitrineError):
    """The input is larger than the platform takes (413)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "too_large"


class Unsupported(VitrineError):
    """The input is of a kind the platform does not read (415)."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


# An image refusal's status: too big (in bytes or in pixels) is 413; not an image
# format we read is 415; an image file that is empty or damaged is 400.
REJECTION_STATUS = {
    "file_too_large": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "too_many_pixels": HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    "not_an_image": HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    "unsupported_media_type": HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    "corrupt_image": HTTPStatus.BAD_REQUEST,
    "empty_file": HTTPStatus.BAD_REQUEST,
}


def image_rejection(
    error: ImageRejected, *, message: str | None = None, details: dict | None = None
) -> VitrineError:
    """The platform error for an image the imaging package refused."""
    return VitrineError(
        message or error.message,
        code=error.code,
        status=REJECTION_STATUS.get(error.code, HTTPStatus.BAD_REQUEST),
        details=details,
    )
